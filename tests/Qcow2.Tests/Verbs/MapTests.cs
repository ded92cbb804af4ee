using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.GuestData.GuestImages;
using static Qcow2.Tests.Verbs.VerbParity;

namespace Qcow2.Tests.Verbs;

/// <summary><c>qcow2 map</c> prints, byte for byte, what <c>qemu-img map</c> prints, in both output formats.</summary>
[Trait("Category", "Interop")]
public sealed class MapTests
{
    [QemuFact]
    public void Compressed_normal_and_zero_clusters()
    {
        using var dir = new TempDir();
        var raw = dir.File("src.raw");
        WriteMixedRaw(raw, 6 << 20, seed: 3);
        var image = dir.File("c.qcow2");
        Img("convert", "-q", "-c", "-f", "raw", "-O", "qcow2", raw, image);
        Io(image, "write -P 0x66 1M 100k", "write -z 3M 1M", "discard 5M 64k");
        AssertMapSame(image);
    }

    [QemuFact]
    public void Extended_l2_subclusters_with_and_without_backing()
    {
        using var dir = new TempDir();
        var alone = dir.File("x.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", "extended_l2=on", alone, "2M");
        Io(alone, "write -P 1 4k 4k", "write -P 2 70k 10k", "write -z 200k 8k", "write -z 1M 64k");
        AssertMapSame(alone);
        var backing = dir.File("base.qcow2");
        Img("create", "-q", "-f", "qcow2", backing, "1M");
        Io(backing, "write -P 0xAA 0 1M");
        var top = dir.File("top.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", "extended_l2=on", "-b", backing, "-F", "qcow2", top, "2M");
        Io(top, "write -P 1 4k 4k", "write -z 128k 8k", "discard 512k 64k", "write -P 3 1032k 4k");
        AssertMapSame(top);
    }

    [QemuFact]
    public void Backing_chain_of_depth_three_with_a_shorter_backing_file()
    {
        using var dir = new TempDir();
        var a = dir.File("a.qcow2");
        var b = dir.File("b.qcow2");
        var c = dir.File("c.qcow2");
        Img("create", "-q", "-f", "qcow2", a, "4M");
        Io(a, "write -P 0x0A 0 1M", "write -z 2M 64k");
        Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", "-b", "a.qcow2", "-F", "qcow2", b, "6M");
        Io(b, "write -P 0x0B 512k 128k", "write -c 3M 64k");
        Img("create", "-q", "-f", "qcow2", "-b", "b.qcow2", "-F", "qcow2", c, "8M");
        Io(c, "write -P 0x0C 7M 64k", "write -z 100k 4k");
        AssertMapSame(c);
        AssertSameAsQemu("map", "--output=json", "--start-offset=1M", "--max-length=3M", c);
    }

    [QemuFact]
    public void External_data_file()
    {
        using var dir = new TempDir();
        var image = dir.File("x.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", $"data_file={dir.File("x.data")}", image, "2M");
        Io(image, "write -P 0x41 64k 512k", "write -z 1M 64k");
        AssertMapSame(image);
    }

    private static void AssertMapSame(string image)
    {
        AssertSameAsQemu("map", "--output=json", image);
        AssertSameAsQemu("map", "--output=human", image);
        AssertSameAsQemu("map", "-f", "qcow2", image);
    }
}
