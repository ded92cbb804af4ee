using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.Format.ImageFiles;

namespace Qcow2.Tests.Format;

/// <summary>On randomly damaged images, the library accepts exactly what `qemu-img info` accepts, and refuses with the same message.</summary>
public sealed class DifferentialTests
{
    [QemuTheory]
    [InlineData("cluster_size=4096", 7)]
    [InlineData("cluster_size=65536", 11)]
    [InlineData("compat=0.10,cluster_size=4096", 13)]
    [InlineData("cluster_size=512,refcount_bits=1", 17)]
    [InlineData("cluster_size=2M,compression_type=zstd,lazy_refcounts=on", 19)]
    public void Damaged_images_are_accepted_or_refused_like_qemu_img_info(string options, int seed)
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M", options);
        if (!options.Contains("compat=0.10"))
        {
            AddBitmap(path, "bm0");
            AddBitmap(path, "bm1", "--disable", "-g", "1M");
        }
        Qemu.Io("-c", "write 0 64k", path).EnsureSuccess("write");
        // A snapshot needs refcount 2, which 1-bit refcounts cannot hold.
        if (!options.Contains("refcount_bits=1"))
            Qemu.Img("snapshot", "-c", "s1", path).EnsureSuccess("snapshot");
        var original = File.ReadAllBytes(path);
        var random = new Random(seed);
        var damaged = dir.File("damaged.qcow2");
        var mismatches = new List<string>();

        for (var iteration = 0; iteration < 200; iteration++)
        {
            var bytes = (byte[])original.Clone();
            // Most damage goes to the header and its extensions, the rest anywhere in the metadata.
            var at = random.Next(3) > 0 ? random.Next(1024) : random.Next(Math.Min(bytes.Length, 1 << 20));
            bytes[at] = (byte)random.Next(256);
            File.WriteAllBytes(damaged, bytes);
            string? ours = null;
            try
            {
                Qcow2Image.Open(damaged).Dispose();
            }
            catch (Qcow2FormatException e)
            {
                ours = e.Message;
            }
            var qemu = Qemu.Img("info", "-f", "qcow2", damaged);
            var qemuError = qemu.ExitCode == 0 ? null : qemu.StandardError.Trim();
            if ((ours is null) != (qemuError is null) || (ours is not null && !qemuError!.Contains(ours.Split(" (")[0])))
                mismatches.Add($"byte {at} = 0x{bytes[at]:X2}: ours '{ours}' / qemu '{qemuError}' (exit {qemu.ExitCode})");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }
}
