// Guest-data workloads timed against qemu-img by bench/guest-data-vs-qemu-img.sh. Each run prints its wall time in seconds.
//   seq IMAGE                  read the whole virtual disk through the Stream in 1 MiB blocks
//   read|write IMAGE COUNT STEP  COUNT 4 KiB requests at offsets (i * STEP) mod virtual size, qemu-img bench's pattern
using System.Diagnostics;
using Qcow2;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: qcow2-guest-bench seq IMAGE | read IMAGE COUNT STEP | write IMAGE COUNT STEP");
    return 2;
}
var writable = args[0] == "write";
using var image = Qcow2Image.Open(args[1], new Qcow2OpenOptions { Writable = writable });
var clock = Stopwatch.StartNew();
long checksum = 0;
switch (args[0])
{
    case "seq":
        using (var disk = image.OpenDiskStream())
        {
            var block = new byte[1 << 20];
            int read;
            while ((read = disk.Read(block)) > 0)
                checksum += block[read - 1];
        }
        break;
    case "read" or "write":
        var count = long.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        var step = long.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
        var buffer = new byte[4096];
        Array.Fill(buffer, (byte)0xA5);
        long offset = 0;
        for (long i = 0; i < count; i++)
        {
            if (writable)
                image.Write(offset, buffer);
            else
            {
                image.Read(offset, buffer);
                checksum += buffer[0];
            }
            offset = (offset + step) % image.VirtualSize;
        }
        break;
    default:
        Console.Error.WriteLine($"unknown workload {args[0]}");
        return 2;
}
Console.WriteLine($"{clock.Elapsed.TotalSeconds:F3} {checksum}");
return 0;
