using System.Text.Json;
using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.GuestData.GuestImages;

namespace Qcow2.Tests.GuestData;

/// <summary>Every kind of image QEMU's tools make reads, through our stream and positional reads, exactly as <c>qemu-img convert -O raw</c> reads it.</summary>
[Trait("Category", "Interop")]
public sealed class ReadParityTests
{
    private static readonly Qcow2OpenOptions Chain = new() { OpenBackingChain = true, OpenDataFile = true };

    /// <summary>Data, zero clusters (plain and preallocated), discards and partial writes at every cluster size.</summary>
    [QemuTheory]
    [InlineData(512)]
    [InlineData(4096)]
    [InlineData(65536)]
    [InlineData(2 << 20)]
    public void Cluster_sizes(int clusterSize)
    {
        using var dir = new TempDir();
        var image = dir.File("x.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", $"cluster_size={clusterSize}", image, "24M");
        Io(image, "write -P 0x11 0 3M", "write -P 0x22 5M 1536", "write -P 0x33 7000k 2M", "write -z 1M 1M", "write -z 7M 64k",
            "discard 2M 1M", "write -P 0x44 20M 4M", "write -z -u 21M 512k", "write -P 0x55 12345k 3k");
        AssertParity(image, dir);
    }

    [QemuTheory]
    [InlineData("zlib", 65536)]
    [InlineData("zstd", 65536)]
    [InlineData("zlib", 4096)]
    [InlineData("zstd", 2 << 20)]
    public void Compressed(string compression, int clusterSize)
    {
        using var dir = new TempDir();
        var raw = dir.File("src.raw");
        WriteMixedRaw(raw, 12 << 20, seed: clusterSize);
        var image = dir.File("c.qcow2");
        Img("convert", "-q", "-c", "-f", "raw", "-O", "qcow2", "-o", $"compression_type={compression},cluster_size={clusterSize}", raw, image);
        // Partly overwritten afterwards, so that compressed, normal and zero clusters sit side by side.
        Io(image, "write -P 0x66 1M 100k", "write -z 3M 1M");
        AssertParity(image, dir);
        using var opened = Qcow2Image.Open(image);
        Assert.Contains(opened.GetAllocation(0, opened.VirtualSize), e => e.Compressed);
    }

    [QemuFact]
    public void Extended_l2_with_subclusters_over_a_backing_file()
    {
        using var dir = new TempDir();
        var backing = dir.File("base.qcow2");
        Img("create", "-q", "-f", "qcow2", backing, "8M");
        Io(backing, "write -P 0xAA 0 8M");
        var image = dir.File("top.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", "extended_l2=on,cluster_size=64k", "-b", backing, "-F", "qcow2", image);
        Io(image, "write -P 0x01 4k 4k", "write -P 0x02 70k 10k", "write -z 128k 8k", "write -z 1M 64k", "discard 2M 128k",
            "write -P 0x03 3M 2k", "write -z 3100k 2k");
        AssertParity(image, dir);
    }

    [QemuFact]
    public void Extended_l2_without_backing()
    {
        using var dir = new TempDir();
        var image = dir.File("x.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", "extended_l2=on,cluster_size=128k", image, "8M");
        Io(image, "write -P 0x0F 8k 4k", "write -P 0x10 300k 40k", "write -z 310k 4k", "discard 1M 128k", "write -P 1 1M 1k");
        AssertParity(image, dir);
    }

    [QemuFact]
    public void Internal_snapshots()
    {
        using var dir = new TempDir();
        var image = dir.File("s.qcow2");
        Img("create", "-q", "-f", "qcow2", image, "8M");
        Io(image, "write -P 0x01 0 4M");
        Img("snapshot", "-c", "one", image);
        Io(image, "write -P 0x02 1M 1M", "write -z 3M 64k");
        Img("snapshot", "-c", "two", image);
        Io(image, "write -P 0x03 1536k 8k", "discard 0 64k");
        AssertParity(image, dir);
    }

    [QemuFact]
    public void Preallocated_metadata_and_version_2()
    {
        using var dir = new TempDir();
        var meta = dir.File("m.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", meta, "8M");
        Io(meta, "write -P 0x21 100k 300k", "write -z 2M 1M");
        AssertParity(meta, dir);
        var v2 = dir.File("v2.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", "compat=0.10", v2, "8M");
        Io(v2, "write -P 0x31 0 1M", "write -z 512k 64k", "discard 3M 1M");
        AssertParity(v2, dir);
    }

    [QemuTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void External_data_file(bool raw)
    {
        using var dir = new TempDir();
        var image = dir.File("x.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", $"data_file={dir.File("x.data")},data_file_raw={(raw ? "on" : "off")}", image, "8M");
        Io(image, "write -P 0x41 64k 1M", "write -z 512k 64k", "write -P 0x42 5M 3k");
        AssertParity(image, dir);
        using var closed = Qcow2Image.Open(image);
        Assert.Throws<InvalidOperationException>(() => closed.Read(64 << 10, new byte[16]));
    }

    [QemuFact]
    public void Backing_chain_of_depth_three()
    {
        using var dir = new TempDir();
        var a = dir.File("a.qcow2");
        var b = dir.File("b.qcow2");
        var c = dir.File("c.qcow2");
        var d = dir.File("d.qcow2");
        Img("create", "-q", "-f", "qcow2", a, "8M");
        Io(a, "write -P 0x0A 0 8M");
        Img("create", "-q", "-f", "qcow2", "-b", a, "-F", "qcow2", b, "6M");
        Io(b, "write -P 0x0B 1M 2M", "write -z 1536k 64k");
        Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", "-b", "b.qcow2", "-F", "qcow2", c);
        Io(c, "write -P 0x0C 2M 100k", "discard 1M 64k");
        Img("create", "-q", "-f", "qcow2", "-b", c, "-F", "qcow2", d, "10M");
        Io(d, "write -P 0x0D 2050k 10k", "write -P 0x0E 9M 512k");
        AssertParity(d, dir);

        using var image = Qcow2Image.Open(d, Chain);
        AssertMapMatchesQemu(image, d);
        using var alone = Qcow2Image.Open(d);
        Assert.Null(alone.BackingImage);
        var error = Assert.Throws<InvalidOperationException>(() => alone.Read(0, new byte[512]));
        Assert.Contains("backing file", error.Message, StringComparison.Ordinal);
    }

    [QemuFact]
    public void Encrypted_images_are_refused()
    {
        using var dir = new TempDir();
        var image = dir.File("e.qcow2");
        Img("create", "-q", "-f", "qcow2", "--object", "secret,id=s0,data=pw", "-o", "encrypt.format=luks,encrypt.key-secret=s0", image, "4M");
        using var opened = Qcow2Image.Open(image);
        var error = Assert.Throws<NotSupportedException>(() => opened.Read(0, new byte[512]));
        Assert.Contains("encrypted", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Full reads (stream, 1 MiB and odd block sizes), random positional and async reads, all equal to QEMU's raw view.</summary>
    private static void AssertParity(string path, TempDir dir)
    {
        var expected = QemuRaw(path, dir);
        using var image = Qcow2Image.Open(path, Chain);
        AssertSameBytes(expected, ReadAll(image), "stream, 1 MiB blocks");
        AssertSameBytes(expected, ReadAll(image, 77_777), "stream, 77777-byte blocks");
        var random = new Random(path.Length);
        var buffer = new byte[300_000];
        for (var i = 0; i < 200; i++)
        {
            var offset = random.NextInt64(expected.Length);
            var length = (int)Math.Min(random.Next(1, buffer.Length), expected.Length - offset);
            var span = buffer.AsSpan(0, length);
            if (i % 2 == 0)
                image.Read(offset, span);
            else
                image.ReadAsync(offset, buffer.AsMemory(0, length)).AsTask().GetAwaiter().GetResult();
            Assert.True(span.SequenceEqual(expected.AsSpan((int)offset, length)), $"read of {length} bytes at {offset} differs");
        }
        AssertMapMatchesQemu(image, path);
    }

    /// <summary>Our extents say what <c>qemu-img map --output=json</c> says: data or not, zero or not, depth, host offset.</summary>
    private static void AssertMapMatchesQemu(Qcow2Image image, string path)
    {
        var map = JsonDocument.Parse(Qemu.Img("map", "--output=json", "-f", "qcow2", path).EnsureSuccess("qemu-img map").StandardOutput).RootElement;
        var expected = new List<(long Start, long End, bool Data, bool Zero, int Depth, long? Offset)>();
        foreach (var e in map.EnumerateArray())
        {
            var start = e.GetProperty("start").GetInt64();
            var item = (start, start + e.GetProperty("length").GetInt64(), e.GetProperty("data").GetBoolean(), e.GetProperty("zero").GetBoolean(),
                e.GetProperty("depth").GetInt32(), e.TryGetProperty("offset", out var o) ? o.GetInt64() : (long?)null);
            expected.Add(item);
        }
        foreach (var extent in image.GetAllocation(0, image.VirtualSize))
        {
            // Compare at every boundary of ours: the QEMU entry holding that byte must agree.
            foreach (var at in new[] { extent.Start, extent.End - 1 })
            {
                var q = expected.Single(x => x.Start <= at && at < x.End);
                var what = $"{extent} vs qemu-img map {q}";
                Assert.True(q.Data == (extent.Kind is Qcow2ExtentKind.Data or Qcow2ExtentKind.ZeroData), what);
                // Data in a hole of the file (probed as QEMU probes it) is zero too.
                if (extent.Kind is Qcow2ExtentKind.Zero or Qcow2ExtentKind.ZeroData || (extent.Kind == Qcow2ExtentKind.Unallocated && image.BackingFileName is null))
                    Assert.True(q.Zero, what);
                else if (extent.Kind == Qcow2ExtentKind.Data)
                    Assert.False(q.Zero, what);
                if (extent.Kind != Qcow2ExtentKind.Unallocated)
                    Assert.True(q.Depth == extent.Depth, what);
                if (extent.HostOffset is { } host && q.Offset is { } qemuOffset)
                    Assert.True(qemuOffset + (at - q.Start) == host + (at - extent.Start), what);
            }
        }
    }
}
