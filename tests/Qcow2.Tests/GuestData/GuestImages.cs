using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.GuestData;

/// <summary>Images made by qemu-img and qemu-io for the guest-data tests, and the raw view QEMU reads of them.</summary>
public static class GuestImages
{
    public static void Img(params string[] args) => Qemu.Img(args).EnsureSuccess("qemu-img " + string.Join(' ', args));

    /// <summary>Runs qemu-io commands on an image (each one a <c>-c</c>).</summary>
    public static void Io(string image, params string[] commands)
    {
        var args = new List<string> { "-f", "qcow2" };
        foreach (var command in commands)
        {
            args.Add("-c");
            args.Add(command);
        }
        args.Add(image);
        var result = Qemu.Io([.. args]).EnsureSuccess("qemu-io " + string.Join(' ', args));
        if (result.StandardOutput.Contains("error", StringComparison.OrdinalIgnoreCase) || result.StandardOutput.Contains("failed", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"qemu-io {string.Join(' ', args)}: {result.StandardOutput}");
    }

    /// <summary>What QEMU reads from the image: <c>qemu-img convert -O raw</c> of it.</summary>
    public static byte[] QemuRaw(string image, TempDir dir)
    {
        var raw = dir.File(Guid.NewGuid().ToString("N") + ".raw");
        Img("convert", "-f", "qcow2", "-O", "raw", image, raw);
        var bytes = File.ReadAllBytes(raw);
        File.Delete(raw);
        return bytes;
    }

    /// <summary>A raw file of seeded data: runs of random bytes, of repeated text (compressible) and of zeros.</summary>
    public static void WriteMixedRaw(string path, int size, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[size];
        for (var at = 0; at < size;)
        {
            var run = Math.Min(size - at, random.Next(1, 96) * 1024);
            switch (random.Next(3))
            {
                case 0: random.NextBytes(bytes.AsSpan(at, run)); break;
                case 1:
                    for (var i = 0; i < run; i++)
                        bytes[at + i] = (byte)"qcow2 compressible text "[(i + at) % 24];
                    break;
            }
            at += run;
        }
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>The whole disk read through our stream in blocks of <paramref name="block"/> bytes.</summary>
    public static byte[] ReadAll(Qcow2Image image, int block = 1 << 20)
    {
        using var stream = image.OpenDiskStream();
        var bytes = new byte[stream.Length];
        var at = 0;
        while (at < bytes.Length)
        {
            var read = stream.Read(bytes, at, Math.Min(block, bytes.Length - at));
            if (read == 0)
                throw new InvalidOperationException($"the stream ended at {at} of {bytes.Length}");
            at += read;
        }
        return bytes;
    }

    /// <summary>Asserts equal bytes, naming the first differing offset instead of dumping megabytes.</summary>
    public static void AssertSameBytes(byte[] expected, byte[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var index = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(index == expected.Length, $"{what}: first difference at byte {index} (0x{index:x}): expected {(index < expected.Length ? expected[index] : 0)}, got {(index < actual.Length ? actual[index] : 0)}");
    }
}
