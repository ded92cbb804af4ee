using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.Format.ImageFiles;

namespace Qcow2.Tests.Format;

/// <summary>Random damage to the metadata never escapes as anything but a <see cref="Qcow2FormatException"/>.</summary>
public sealed class FuzzTests
{
    [QemuFact]
    public void Random_byte_damage_to_metadata_is_either_accepted_or_refused_with_a_format_exception()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M", "cluster_size=4096");
        AddBitmap(path, "bm0");
        AddBitmap(path, "bm1", "-g", "1M");
        Qemu.Io("-c", "write 0 64k", path).EnsureSuccess("write");
        Qemu.Img("snapshot", "-c", "s1", path).EnsureSuccess("snapshot");
        var original = File.ReadAllBytes(path);
        var metadataEnd = Math.Min(original.Length, 64 * 4096);
        var random = new Random(20240611);
        var refused = 0;

        for (var iteration = 0; iteration < 3000; iteration++)
        {
            var bytes = (byte[])original.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                // Half of the damage goes to cluster 0, the rest anywhere in the metadata clusters.
                var at = random.Next(2) == 0 ? random.Next(4096) : random.Next(metadataEnd);
                bytes[at] = random.Next(4) == 0 ? (byte)0xFF : (byte)random.Next(256);
            }
            try
            {
                // Writable opens may also rewrite the header (unknown autoclear bits, untrusted bitmaps).
                using var image = Qcow2Image.Open(new MemoryStream(bytes), new Qcow2OpenOptions { Writable = iteration % 2 == 1 });
                Assert.True(image.ClusterSize >= 512);
            }
            catch (Qcow2FormatException)
            {
                refused++;
            }
        }
        Assert.InRange(refused, 1, 2999);
    }
}
