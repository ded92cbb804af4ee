using System.Buffers.Binary;
using System.Text.Json;
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Resize;

/// <summary>
/// Fault injection: each operation runs once to count its writes, then once for every N with only the first N writes
/// reaching the "disk" (<see cref="CrashAfterWritesStream"/>). Every such image must open (ours and qemu-img), have the old
/// or the new size, keep its guest data, and show no corruption to qemu-img check (leaks are allowed). Images are tiny so
/// that each N costs little; one template byte[] serves every N.
/// </summary>
public sealed class CrashSafetyTests
{
    private const long KiB = 1024;
    private const long MiB = 1024 * KiB;

    /// <summary>512-byte clusters and 64-bit refcounts: one refcount table cluster covers 2 MiB of file, so a 2 MiB L1 (8 GiB) forces table growth.</summary>
    [QemuFact]
    public void Every_crash_point_of_a_grow_with_L1_and_refcount_table_growth_is_safe()
    {
        using var dir = new TempDir();
        var template = Template(dir, "cluster_size=512,refcount_bits=64", "1M", (0x5a, 0, 512 * KiB));
        const long newSize = 8L << 30;

        var writes = RunAtEveryCrashPoint(dir, template, image =>
        {
            var tableBefore = image.Metadata.Header.RefcountTableOffset;
            image.Resize(newSize);
            return tableBefore != image.Metadata.Header.RefcountTableOffset;
        }, (path, n) =>
        {
            VerifyImage(path, n, [MiB, newSize]);
            ResizeAssert.Reads(path, 0x5a, 0, 512 * KiB);
        });
        Assert.True(writes > 20, $"only {writes} writes: the grow did not exercise L1 and table growth");
    }

    /// <summary>
    /// Metadata preallocation links data clusters and new L2 tables only after they are allocated and zeroed. 4 KiB clusters:
    /// one L2 table covers 2 MiB, so 1 MiB → 5 MiB fills the first table and needs two new ones; 1 MiB → 12 MiB needs five,
    /// and its run of tables and data crosses the 8 MiB the first refcount block describes, so a new block is written too.
    /// </summary>
    [QemuTheory]
    [InlineData(5 * MiB)]
    [InlineData(12 * MiB)]
    public void Every_crash_point_of_a_grow_with_metadata_preallocation_is_safe(long newSize)
    {
        using var dir = new TempDir();
        var template = Template(dir, "cluster_size=4096", "1M", (0x5a, 0, 256 * KiB));

        var writes = RunAtEveryCrashPoint(dir, template, image =>
        {
            image.Resize(newSize, new Qcow2ResizeOptions { Preallocation = Qcow2Preallocation.Metadata });
            return true;
        }, (path, n) =>
        {
            VerifyImage(path, n, [MiB, newSize]);
            ResizeAssert.Reads(path, 0x5a, 0, 256 * KiB);
            ResizeAssert.Reads(path, 0, 256 * KiB, MiB - 256 * KiB);
        });
        Assert.True(writes >= 6, $"only {writes} writes");
    }

    /// <summary>Growing an overlay marks the new area as zero clusters: a crash never lets the longer backing file show through.</summary>
    [QemuFact]
    public void Every_crash_point_of_an_overlay_grow_is_safe()
    {
        using var dir = new TempDir();
        var backing = dir.File("base.qcow2");
        ResizeAssert.Create(backing, "8M", "cluster_size=4096");
        ResizeAssert.Write(backing, 0x77, 0, 8 * MiB);
        var overlay = dir.File("overlay.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", "-b", backing, "-F", "qcow2", overlay, "1M").EnsureSuccess("create overlay");
        ResizeAssert.Write(overlay, 0x5a, 0, 64 * KiB);
        var template = File.ReadAllBytes(overlay);
        const long newSize = 5 * MiB;

        var writes = RunAtEveryCrashPoint(dir, template, image =>
        {
            image.Resize(newSize);
            return true;
        }, (path, n) =>
        {
            var size = VerifyImage(path, n, [MiB, newSize]);
            ResizeAssert.Reads(path, 0x5a, 0, 64 * KiB);
            ResizeAssert.Reads(path, 0x77, 64 * KiB, MiB - 64 * KiB);
            if (size == newSize)
                ResizeAssert.Reads(path, 0, MiB, newSize - MiB);
        });
        Assert.True(writes >= 4, $"only {writes} writes");
    }

    [QemuFact]
    public void Every_crash_point_of_a_shrink_is_safe()
    {
        using var dir = new TempDir();
        // 1000 MiB + 512: a partial last cluster (its tail gets zeroed), part of an L2 table cleared, a whole L2 table dropped.
        const long newSize = 1000 * MiB + 512;
        var template = Template(dir, "cluster_size=65536", "1T",
            (0x5a, 0, 128 * KiB), (0x66, 1000 * MiB, 128 * KiB), (0x33, 1010 * MiB, 128 * KiB), (0x44, 600L << 30, 128 * KiB));

        var writes = RunAtEveryCrashPoint(dir, template, image =>
        {
            image.Resize(newSize, new Qcow2ResizeOptions { AllowShrink = true });
            return true;
        }, (path, n) =>
        {
            var size = VerifyImage(path, n, [1L << 40, newSize]);
            ResizeAssert.Reads(path, 0x5a, 0, 128 * KiB);
            ResizeAssert.Reads(path, 0x66, 1000 * MiB, 512);
            if (size == 1L << 40)
            {
                // The size was not switched yet, so nothing past the new end may be gone.
                ResizeAssert.Reads(path, 0x66, 1000 * MiB, 128 * KiB);
                ResizeAssert.Reads(path, 0x33, 1010 * MiB, 128 * KiB);
                ResizeAssert.Reads(path, 0x44, 600L << 30, 128 * KiB);
            }
        });
        Assert.True(writes >= 5, $"only {writes} writes");
    }

    /// <summary>
    /// With a consistent bitmap, the size and the bitmaps extension must switch together: a crash anywhere leaves QEMU able to
    /// open the image writable (which loads the bitmap and checks its table against the size) and the dirty bits intact.
    /// </summary>
    [QemuTheory]
    [InlineData(256L << 20)]
    [InlineData(32L << 20)]
    public void Every_crash_point_of_a_resize_with_a_bitmap_is_safe(long newSize)
    {
        using var dir = new TempDir();
        var path = dir.File("template.qcow2");
        ResizeAssert.Create(path, "64M", "cluster_size=4096");
        Qemu.Img("bitmap", "--add", "-g", "4096", "-f", "qcow2", path, "b0").EnsureSuccess("bitmap --add");
        ResizeAssert.Write(path, 0x5a, 0, 64 * KiB);
        var template = File.ReadAllBytes(path);
        File.Delete(path);

        RunAtEveryCrashPoint(dir, template, image =>
        {
            image.Resize(newSize, new Qcow2ResizeOptions { AllowShrink = true });
            return image.Bitmaps.Single().TableSize != 0;
        }, (crashed, n) =>
        {
            VerifyImage(crashed, n, [64 * MiB, newSize]);
            using (var ours = Qcow2Image.Open(crashed))
                Assert.Equal([new Qcow2GuestRange(0, 64 * KiB)], ours.GetDirtyRanges("b0").ToArray());
            ResizeAssert.Reads(crashed, 0x5a, 0, 64 * KiB);
            var io = Qemu.Io("-f", "qcow2", "-c", "read 0 512", crashed);
            Assert.True(io.ExitCode == 0 && io.StandardError.Length == 0, $"N={n}: writable qemu-io open failed: {io.StandardError}");
        });
    }

    /// <summary>
    /// A shrink through an L2 table shared with a snapshot copies the table, and the partly covered last cluster (shared too)
    /// gets a copy with a zeroed tail; the snapshot must survive every crash point with all its data.
    /// </summary>
    [QemuFact]
    public void Every_crash_point_of_a_shrink_with_a_shared_L2_table_is_safe()
    {
        using var dir = new TempDir();
        var path = dir.File("template.qcow2");
        ResizeAssert.Create(path, "4M", "cluster_size=4096");   // one L2 table covers 2 MiB
        ResizeAssert.Write(path, 0x5a, 0, 64 * KiB);
        ResizeAssert.Write(path, 0x66, MiB, 4 * KiB);
        ResizeAssert.Write(path, 0x44, 1536 * KiB, 64 * KiB);
        Qemu.Img("snapshot", "-c", "s1", path).EnsureSuccess("snapshot");
        var template = File.ReadAllBytes(path);
        File.Delete(path);
        const long newSize = MiB + 512;

        var writes = RunAtEveryCrashPoint(dir, template, image =>
        {
            var l1Before = EntryTable.Read(image.Storage, (long)image.Metadata.Header.L1TableOffset, 1)[0];
            image.Resize(newSize, new Qcow2ResizeOptions { AllowShrink = true });
            return EntryTable.Read(image.Storage, (long)image.Metadata.Header.L1TableOffset, 1)[0] != l1Before; // copied
        }, (crashed, n) =>
        {
            var size = VerifyImage(crashed, n, [4 * MiB, newSize]);
            ResizeAssert.Reads(crashed, 0x5a, 0, 64 * KiB);
            ResizeAssert.Reads(crashed, 0x66, MiB, 512);
            if (size == 4 * MiB)
                ResizeAssert.Reads(crashed, 0x44, 1536 * KiB, 64 * KiB);
            Qemu.Img("snapshot", "-a", "s1", crashed).EnsureSuccess($"N={n}: snapshot -a");
            ResizeAssert.Reads(crashed, 0x66, MiB, 4 * KiB);
            ResizeAssert.Reads(crashed, 0x44, 1536 * KiB, 64 * KiB);
            Assert.True(Qemu.CheckJson(crashed).ExitCode is 0 or 3, $"N={n}: check after reverting to the snapshot");
        });
        Assert.True(writes >= 6, $"only {writes} writes");
    }

    /// <summary>A shrink that unlinks refcount blocks which became empty, and truncates the file after them.</summary>
    [QemuFact]
    public void Every_crash_point_of_a_shrink_that_drops_refcount_blocks_is_safe()
    {
        using var dir = new TempDir();
        var template = Template(dir, "cluster_size=512", "2M", (0x5a, 0, 2 * MiB));
        var writes = RunAtEveryCrashPoint(dir, template, image =>
        {
            var before = image.FileLength;
            image.Resize(512 * KiB, new Qcow2ResizeOptions { AllowShrink = true });
            return image.FileLength < before / 2;
        }, (path, n) =>
        {
            var size = VerifyImage(path, n, [2 * MiB, 512 * KiB]);
            ResizeAssert.Reads(path, 0x5a, 0, size == 2 * MiB ? 2 * MiB : 512 * KiB);
        });
        Assert.True(writes >= 6, $"only {writes} writes");
    }

    [QemuFact]
    public void Every_crash_point_of_a_header_rewrite_is_safe()
    {
        using var dir = new TempDir();
        var template = Template(dir, "cluster_size=65536", "64M", (0x5a, 0, 64 * KiB));
        RunAtEveryCrashPoint(dir, template, image =>
        {
            image.SetLazyRefcounts(true);
            return image.LazyRefcounts;
        }, (path, n) =>
        {
            VerifyImage(path, n, [64 * MiB]);
            ResizeAssert.Reads(path, 0x5a, 0, 64 * KiB);
        });
        RunAtEveryCrashPoint(dir, template, image =>
        {
            image.UpdateHeader();
            return true;
        }, (path, n) => VerifyImage(path, n, [64 * MiB]));
    }

    /// <summary>
    /// A data cluster's refcount set to 0 needs a refcount rebuild. A crash during the repair may leave the image as broken as
    /// before (the repair had not taken effect), but never worse: no more corruptions than before, the data intact, and
    /// `qemu-img check -r all` still able to repair it.
    /// </summary>
    [QemuFact]
    public void Every_crash_point_of_a_refcount_rebuild_is_safe()
    {
        using var dir = new TempDir();
        var template = Template(dir, "cluster_size=512", "1M", (0x5a, 0, 64 * KiB));
        ZeroRefcountOfFirstDataCluster(template);
        var path = dir.File("broken.qcow2");
        File.WriteAllBytes(path, template);
        var originalCorruptions = Corruptions(Qemu.CheckJson(path).Json);
        Assert.True(originalCorruptions > 0, "the template is not broken");

        var writes = RunAtEveryCrashPoint(dir, template, image =>
        {
            var result = image.Check(new Qcow2CheckOptions { Repair = Qcow2CheckRepair.All });
            return result.Corruptions == 0 && result.CorruptionsFixed > 0;
        }, (crashed, n) =>
        {
            Assert.Equal(MiB, Qemu.InfoJson(crashed).GetProperty("virtual-size").GetInt64());
            using (var ours = Qcow2Image.Open(crashed))
                Assert.Equal(MiB, ours.VirtualSize);
            var (exitCode, json, stderr) = Qemu.CheckJson(crashed);
            Assert.True(exitCode is 0 or 2 or 3, $"N={n}: qemu-img check exited {exitCode}: {stderr}");
            Assert.True(Corruptions(json) <= originalCorruptions, $"N={n}: {Corruptions(json)} corruptions, more than the {originalCorruptions} before the repair");
            ResizeAssert.Reads(crashed, 0x5a, 0, 64 * KiB);
            Qemu.Img("check", "-q", "-r", "all", "-f", "qcow2", crashed);
            Assert.True(Qemu.CheckJson(crashed).ExitCode == 0, $"N={n}: qemu-img check -r all could not repair the crashed image");
        });
        Assert.True(writes > 1);
    }

    /// <summary>Builds an image with qemu-img and qemu-io and returns its bytes.</summary>
    private static byte[] Template(TempDir dir, string options, string size, params (int Pattern, long Offset, long Length)[] writes)
    {
        var path = dir.File("template.qcow2");
        ResizeAssert.Create(path, size, options);
        foreach (var (pattern, offset, length) in writes)
            ResizeAssert.Write(path, pattern, offset, length);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    private static int RunAtEveryCrashPoint(TempDir dir, byte[] template, Func<Qcow2Image, bool> operation, Action<string, int> verify) =>
        CrashPoints.Run(dir.File("crashed.qcow2"), template, operation, verify);

    /// <summary>Opens with us and qemu-img, checks the size is one of <paramref name="sizes"/> and that neither check finds corruption.</summary>
    private static long VerifyImage(string path, int n, long[] sizes)
    {
        long size;
        using (var ours = Qcow2Image.Open(path))
        {
            size = ours.VirtualSize;
            var result = ours.Check();
            Assert.True(result.FailureMessage is null && result.CheckErrors == 0 && result.Corruptions == 0,
                $"N={n}: our check: {result.FailureMessage} {string.Join("; ", result.Findings.Select(f => f.Message))}");
        }
        Assert.Contains(size, sizes);
        Assert.Equal(size, Qemu.InfoJson(path).GetProperty("virtual-size").GetInt64());
        var (exitCode, json, stderr) = Qemu.CheckJson(path);
        Assert.True(exitCode is 0 or 3, $"N={n}: qemu-img check exited {exitCode}: {stderr} {json}");
        Assert.Equal(0, Corruptions(json));
        return size;
    }

    private static long Corruptions(JsonElement? json) =>
        json is { } j && j.TryGetProperty("corruptions", out var c) ? c.GetInt64() : 0;

    /// <summary>Sets the on-disk refcount (16-bit) of the cluster the first L2 entry maps to 0.</summary>
    private static void ZeroRefcountOfFirstDataCluster(byte[] image)
    {
        var clusterBits = (int)BinaryPrimitives.ReadUInt32BigEndian(image.AsSpan(20));
        var l1Offset = (long)BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan(40));
        var refcountTable = (long)BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan(48));
        var l2 = (long)(BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan((int)l1Offset)) & L1Entry.OffsetMask);
        var data = (long)(BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan((int)l2)) & L2Entry.OffsetMask);
        Assert.NotEqual(0, data);
        var perBlock = (1L << clusterBits) / 2;
        var cluster = data >> clusterBits;
        var block = (long)BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan((int)(refcountTable + cluster / perBlock * 8)));
        BinaryPrimitives.WriteUInt16BigEndian(image.AsSpan((int)(block + cluster % perBlock * 2)), 0);
    }
}
