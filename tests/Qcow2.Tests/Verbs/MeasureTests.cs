using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.GuestData.GuestImages;
using static Qcow2.Tests.Verbs.VerbParity;

namespace Qcow2.Tests.Verbs;

/// <summary><c>qcow2 measure</c> prints qemu-img's numbers, in both output formats.</summary>
[Trait("Category", "Interop")]
public sealed class MeasureTests
{
    [QemuFact]
    public void Same_numbers_as_qemu_img()
    {
        using var dir = new TempDir();
        var raw = dir.File("src.raw");
        WriteMixedRaw(raw, 5 << 20, seed: 9);
        var basePath = dir.File("base.qcow2");
        Img("create", "-q", "-f", "qcow2", basePath, "4M");
        Io(basePath, "write -P 1 0 1M", "write -P 2 1100k 1k", "write -z 2M 64k");
        Img("bitmap", "--add", basePath, "a-bitmap");
        Img("bitmap", "--add", "-g", "512", basePath, "fine");
        var top = dir.File("top.qcow2");
        Img("create", "-q", "-f", "qcow2", "-b", basePath, "-F", "qcow2", top, "6M");
        Io(top, "write -P 3 3M 100k");
        // A sparse raw file: its holes are not counted, but zeros written into it are (they are data to the file system).
        var sparse = dir.File("sparse.raw");
        using (var file = new FileStream(sparse, FileMode.Create))
        {
            file.SetLength(16 << 20);
            file.Position = 1 << 20;
            file.Write(Enumerable.Repeat((byte)9, 300_000).ToArray());
            file.Position = 8 << 20;
            file.Write(new byte[256 << 10]);
        }
        foreach (var output in new[] { "human", "json" })
        {
            AssertSameAsQemu("measure", "--output=" + output, "--size", "1G", "-O", "qcow2");
            AssertSameAsQemu("measure", "--output=" + output, "--size", "100G", "-O", "qcow2", "-o", "cluster_size=4k,refcount_bits=64");
            AssertSameAsQemu("measure", "--output=" + output, "-O", "qcow2", top);
            AssertSameAsQemu("measure", "--output=" + output, "-O", "qcow2", basePath);
            AssertSameAsQemu("measure", "--output=" + output, "-O", "qcow2", "-o", "extended_l2=on,cluster_size=128k", top);
            AssertSameAsQemu("measure", "--output=" + output, "-O", "qcow2", "-o", "compat=0.10", basePath);
            AssertSameAsQemu("measure", "--output=" + output, "-O", "qcow2", "-o", $"backing_file={basePath},backing_fmt=qcow2", top);
            AssertSameAsQemu("measure", "--output=" + output, "-O", "qcow2", "-f", "raw", raw);
            AssertSameAsQemu("measure", "--output=" + output, "-O", "qcow2", "-f", "raw", sparse);
            AssertSameAsQemu("measure", "--output=" + output, "-O", "raw", top);
        }
        AssertSameAsQemu("measure", "--size", "100T", "-O", "qcow2", "-o", "cluster_size=512");
        // measure refuses a bad cluster size, as create does, but accepts mixes that create refuses.
        AssertSameAsQemu("measure", "--size", "1G", "-O", "qcow2", "-o", "cluster_size=1000");
        AssertSameAsQemu("measure", "--size", "1G", "-O", "qcow2", "-o", "compat=0.10,lazy_refcounts=on");
    }
}
