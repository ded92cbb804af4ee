using System.Buffers.Binary;
using System.IO.Compression;
using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.GuestData.GuestImages;

namespace Qcow2.Tests.GuestData;

/// <summary>What the guest-data API promises besides the bytes: QEMU's side effects, refusals, the stream, threads, hostile entries.</summary>
public sealed class GuestDataBehaviourTests
{
    private static ulong IncompatibleFeatures(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var header = new byte[80];
        file.ReadExactly(header);
        return BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(72));
    }

    [QemuFact]
    public void Whole_new_clusters_are_allocated_as_one_run_with_one_data_write_and_one_entry_write()
    {
        using var dir = new TempDir();
        var path = dir.File("run.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", path, "64M").EnsureSuccess("qemu-img create");
        Qemu.Io("-c", "write -P 0x11 0 64k", path).EnsureSuccess("qemu-io write");
        var data = new byte[1 << 20];
        Random.Shared.NextBytes(data);

        using var file = new MemoryStream();
        file.Write(File.ReadAllBytes(path));
        var storage = new CountingStorage(new StreamStorage(file, writable: true, leaveOpen: true), allowSetLength: true);
        using (var image = Qcow2Image.Open(storage, writable: true, forCheck: false, fileName: null))
        {
            // Cluster 0 is allocated (written in place), the 16 after it are new: they cost one data write of all their bytes
            // and one write of their 16 L2 entries, not one refcount-block write and one entry write each.
            image.Write(0, data.AsSpan(0, 65536));
            var before = storage.Writes.Count;
            image.Write(65536, data);
            var writes = storage.Writes.Skip(before).ToList();
            Assert.Single(writes, w => w.Length == data.Length);
            Assert.Contains(writes, w => w.Length == 16 * sizeof(ulong));
            Assert.True(writes.Count <= 3, $"{writes.Count} writes: {string.Join(", ", writes)}");
        }
        File.WriteAllBytes(path, file.ToArray());
        Assert.Equal(0, Qemu.Img("check", "-q", path).ExitCode);
        var raw = dir.File("run.raw");
        File.WriteAllBytes(raw, [.. data.AsSpan(0, 65536), .. data]);
        var compare = Qemu.Img("compare", "-f", "raw", "-F", "qcow2", raw, path);
        Assert.True(compare.ExitCode == 0, compare.StandardOutput + compare.StandardError);
    }

    [QemuFact]
    public void Scattered_ranges_written_together_cost_one_data_write_and_one_entry_write_per_table()
    {
        using var dir = new TempDir();
        var path = dir.File("scattered.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", path, "8M").EnsureSuccess("qemu-img create");
        // One cluster in each of the four L2 tables (2 MiB of guest data each), so that the tables exist already.
        Qemu.Io("-c", "write -P 0x11 0 4k", "-c", "write -P 0x11 2M 4k", "-c", "write -P 0x11 4M 4k", "-c", "write -P 0x11 6M 4k", path)
            .EnsureSuccess("qemu-io write");
        var expected = new byte[8 << 20];
        foreach (var table in new[] { 0, 2 << 20, 4 << 20, 6 << 20 })
            expected.AsSpan(table, 4096).Fill(0x11);
        var random = new Random(14);
        var ranges = new List<(long Offset, ReadOnlyMemory<byte> Data)>();
        for (var i = 0; i < 40; i++)
        {
            var data = new byte[4096 * (1 + i % 2)];
            random.NextBytes(data);
            var offset = (1 + 50L * i) * 4096;
            ranges.Add((offset, data));
            data.CopyTo(expected, offset);
        }

        using var file = new MemoryStream();
        file.Write(File.ReadAllBytes(path));
        var storage = new CountingStorage(new StreamStorage(file, writable: true, leaveOpen: true), allowSetLength: true);
        using (var image = Qcow2Image.Open(storage, writable: true, forCheck: false, fileName: null))
        {
            image.WriteRanges(ranges);
            // Per range that would be a refcount-block write, a data write and an entry write: 120 writes.
            var dataLength = ranges.Sum(r => r.Data.Length);
            Assert.Single(storage.Writes, w => w.Length == dataLength);
            Assert.Equal(4, storage.Writes.Count(w => w.Length < 4096 && w.Length % sizeof(ulong) == 0 && w.Length > 8));
            Assert.True(storage.Writes.Count <= 6, $"{storage.Writes.Count} writes: {string.Join(", ", storage.Writes)}");
        }
        File.WriteAllBytes(path, file.ToArray());
        AssertCleanAndHolding(path, expected, dir);
    }

    [QemuFact]
    public void Ranges_written_together_in_any_order_through_a_small_table_cache_all_read_back()
    {
        using var dir = new TempDir();
        var path = dir.File("unordered.qcow2");
        Qcow2Image.Create(path, 8 << 20, new Qcow2CreateOptions { ClusterSize = 4096 }).Dispose();
        var expected = new byte[8 << 20];
        var ranges = new List<(long Offset, ReadOnlyMemory<byte> Data)>();
        // Four new L2 tables through a cache of two, then the first table again.
        foreach (var (offset, value) in new[] { (0L, 1), (2L << 20, 2), (4L << 20, 3), (6L << 20, 4), (8192L, 5) })
        {
            var data = Enumerable.Repeat((byte)value, 4096).ToArray();
            ranges.Add((offset, data));
            data.CopyTo(expected, offset);
        }
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true, L2CacheSize = 1 }))
            image.WriteRanges(ranges);
        AssertCleanAndHolding(path, expected, dir);
    }

    /// <summary>qemu-img check finds nothing wrong with the image, and qemu-img compare finds it holding <paramref name="expected"/>.</summary>
    private static void AssertCleanAndHolding(string path, byte[] expected, TempDir dir)
    {
        Assert.Equal(0, Qemu.Img("check", "-q", path).ExitCode);
        var raw = dir.File("expected.raw");
        File.WriteAllBytes(raw, expected);
        var compare = Qemu.Img("compare", "-f", "raw", "-F", "qcow2", raw, path);
        Assert.True(compare.ExitCode == 0, compare.StandardOutput + compare.StandardError);
    }

    [Fact]
    public void Lazy_refcounts_set_the_dirty_bit_while_writing_and_a_clean_close_clears_it()
    {
        using var dir = new TempDir();
        var path = dir.File("lazy.qcow2");
        using (var image = Qcow2Image.Create(path, 4 << 20, new Qcow2CreateOptions { LazyRefcounts = true }))
        {
            Assert.Equal(0UL, IncompatibleFeatures(path) & 1);
            image.Write(12345, new byte[] { 1, 2, 3 });
            Assert.Equal(1UL, IncompatibleFeatures(path) & 1);
        }
        Assert.Equal(0UL, IncompatibleFeatures(path) & 1);
        using var reopened = Qcow2Image.Open(path);
        var bytes = new byte[3];
        reopened.Read(12345, bytes);
        Assert.Equal(new byte[] { 1, 2, 3 }, bytes);
    }

    [Fact]
    public void Enabled_bitmaps_are_in_use_while_writing_and_record_the_writes_at_close()
    {
        using var dir = new TempDir();
        var path = dir.File("b.qcow2");
        using (var image = Qcow2Image.Create(path, 8 << 20))
        {
            image.AddBitmap("on");
            image.AddBitmap("off", enabled: false);
        }
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            Assert.False(image.Bitmaps.Single(b => b.Name == "on").InUse);
            image.Write(1 << 20, new byte[100]);
            image.WriteZeroes(3 << 20, 70_000);
            Assert.True(image.Bitmaps.Single(b => b.Name == "on").InUse);
            Assert.False(image.Bitmaps.Single(b => b.Name == "off").InUse);
        }
        using var reopened = Qcow2Image.Open(path);
        Assert.False(reopened.Bitmaps.Single(b => b.Name == "on").InUse);
        Assert.Equal([new Qcow2GuestRange(1 << 20, 65536), new Qcow2GuestRange(3 << 20, 131072)], reopened.GetDirtyRanges("on"));
        Assert.Empty(reopened.GetDirtyRanges("off"));
    }

    [Fact]
    public void A_metadata_edit_between_writes_first_settles_the_bitmaps()
    {
        using var dir = new TempDir();
        var path = dir.File("r.qcow2");
        using (var image = Qcow2Image.Create(path, 8 << 20))
            image.AddBitmap("b");
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            image.Write(0, new byte[] { 9 });
            image.Resize(16 << 20);
            image.Write(12 << 20, new byte[] { 7 });
            var bytes = new byte[1];
            image.Read(12 << 20, bytes);
            Assert.Equal(7, bytes[0]);
        }
        using var reopened = Qcow2Image.Open(path);
        Assert.Equal([new Qcow2GuestRange(0, 65536), new Qcow2GuestRange(12 << 20, 65536)], reopened.GetDirtyRanges("b"));
    }

    [Fact]
    public void The_disk_stream_seeks_reads_and_writes_within_the_virtual_size()
    {
        using var dir = new TempDir();
        using var image = Qcow2Image.Create(dir.File("s.qcow2"), 1 << 20);
        using var stream = image.OpenDiskStream();
        Assert.Equal(1 << 20, stream.Length);
        Assert.True(stream.CanSeek && stream.CanRead && stream.CanWrite);
        stream.Seek(-4, SeekOrigin.End);
        stream.Write([1, 2, 3, 4]);
        Assert.Equal(stream.Length, stream.Position);
        Assert.Equal(0, stream.Read(new byte[10]));
        stream.Position = stream.Length - 6;
        var tail = new byte[10];
        Assert.Equal(6, stream.Read(tail));
        Assert.Equal(new byte[] { 0, 0, 1, 2, 3, 4, 0, 0, 0, 0 }, tail);
        Assert.Throws<ArgumentOutOfRangeException>(() => stream.Write([5]));
        Assert.Throws<NotSupportedException>(() => stream.SetLength(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => image.Read(stream.Length - 1, new byte[2]));
    }

    [Fact]
    public void A_read_only_image_refuses_writes()
    {
        using var dir = new TempDir();
        var path = dir.File("ro.qcow2");
        Qcow2Image.Create(path, 1 << 20).Dispose();
        using var image = Qcow2Image.Open(path);
        Assert.Throws<InvalidOperationException>(() => image.Write(0, new byte[1]));
        Assert.Throws<InvalidOperationException>(() => image.Discard(0, 65536));
        Assert.False(image.OpenDiskStream().CanWrite);
    }

    [QemuFact]
    [Trait("Category", "Interop")]
    public void Concurrent_reads_from_several_threads_see_qemus_data()
    {
        using var dir = new TempDir();
        var raw = dir.File("src.raw");
        WriteMixedRaw(raw, 8 << 20, 3);
        var path = dir.File("c.qcow2");
        Img("convert", "-q", "-c", "-f", "raw", "-O", "qcow2", raw, path);
        Io(path, "write -P 7 1M 1M");
        var expected = QemuRaw(path, dir);
        using var image = Qcow2Image.Open(path, new Qcow2OpenOptions { L2CacheSize = 1 });
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            var random = new Random(worker);
            var buffer = new byte[100_000];
            for (var i = 0; i < 150; i++)
            {
                var offset = random.NextInt64(expected.Length - buffer.Length);
                image.Read(offset, buffer);
                Assert.True(buffer.AsSpan().SequenceEqual(expected.AsSpan((int)offset, buffer.Length)), $"thread {worker}: read at {offset} differs");
            }
        });
    }

    /// <summary>Makes an image with one written cluster at guest 0 and returns the file offset of its L2 entry.</summary>
    private static long OneClusterImage(string path, out long l1Offset)
    {
        using (var image = Qcow2Image.Create(path, 4 << 20))
            image.Write(0, Enumerable.Repeat((byte)0x5A, 65536).ToArray());
        var bytes = File.ReadAllBytes(path);
        l1Offset = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(40));
        return (long)(BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan((int)l1Offset)) & 0x00FFFFFFFFFFFE00);
    }

    private static void Patch(string path, long offset, ulong value)
    {
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan((int)offset), value);
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public void A_write_through_an_l2_entry_that_points_into_metadata_is_refused_and_changes_nothing()
    {
        using var dir = new TempDir();
        var path = dir.File("m.qcow2");
        var l2 = OneClusterImage(path, out var l1);
        // COPIED data "cluster" that is really the L1 table's cluster (refcount 1 like a data cluster).
        Patch(path, l2, (ulong)l1 | L2Entry.CopiedFlag);
        var before = File.ReadAllBytes(path);
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var error = Assert.Throws<Qcow2FormatException>(() => image.Write(0, new byte[512]));
            Assert.Contains("Preventing invalid write on metadata (overlaps with active L1 table)", error.Message, StringComparison.Ordinal);
        }
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_write_through_an_l1_table_past_the_end_of_the_file_is_refused_and_changes_nothing()
    {
        using var dir = new TempDir();
        var path = dir.File("l1.qcow2");
        OneClusterImage(path, out _);
        Patch(path, 40, 0x00FF_FFFF_FFFF_0000);
        var before = File.ReadAllBytes(path);
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
            Assert.Throws<Qcow2FormatException>(() => image.Write(0, new byte[512]));
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [QemuFact]
    [Trait("Category", "Interop")]
    public void A_snapshot_claiming_a_huge_l1_table_costs_no_memory_on_write()
    {
        using var dir = new TempDir();
        var path = dir.File("snap.qcow2");
        OneClusterImage(path, out _);
        Img("snapshot", "-c", "s", path);
        var bytes = File.ReadAllBytes(path);
        var table = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(64));
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan((int)table + 8), uint.MaxValue);
        File.WriteAllBytes(path, bytes);
        using var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true });
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        image.Write(0, new byte[512]);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.True(allocated < 16 << 20, $"a 512-byte write allocated {allocated} bytes");
    }

    [Fact]
    public void A_compressed_cluster_past_the_end_of_the_file_is_an_io_error_for_reads_and_writes()
    {
        using var dir = new TempDir();
        var path = dir.File("p.qcow2");
        var l2 = OneClusterImage(path, out _);
        var clusterBits = 16;
        var shift = 62 - (clusterBits - 8);
        Patch(path, l2, L2Entry.CompressedFlag | (10UL << shift) | (1UL << 40));
        var before = File.ReadAllBytes(path);
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            Assert.Throws<Qcow2FormatException>(() => image.Read(0, new byte[4096]));
            Assert.Throws<Qcow2FormatException>(() => image.Write(100, new byte[10]));
        }
        // The copy-on-write read fails before anything is allocated or linked.
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_decompression_bomb_inflates_to_one_cluster_and_no_more()
    {
        using var dir = new TempDir();
        var path = dir.File("bomb.qcow2");
        var l2 = OneClusterImage(path, out _);
        using var compressed = new MemoryStream();
        using (var deflate = new DeflateStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 120; i++)
                deflate.Write(zeros);
        }
        var stream = compressed.ToArray();
        Assert.True(stream.Length <= 128 << 10, $"the bomb is {stream.Length} bytes");
        var bytes = File.ReadAllBytes(path);
        var at = (bytes.Length + 511) / 512 * 512;
        Array.Resize(ref bytes, at + stream.Length);
        stream.CopyTo(bytes, at);
        var sectors = (ulong)((stream.Length + 511) / 512 - 1);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan((int)l2), L2Entry.CompressedFlag | (sectors << (62 - 8)) | (uint)at);
        File.WriteAllBytes(path, bytes);

        using var image = Qcow2Image.Open(path);
        var cluster = new byte[65536];
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        image.Read(0, cluster);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.All(cluster, b => Assert.Equal(0, b));
        Assert.True(allocated < 4 << 20, $"reading a 64 KiB cluster allocated {allocated} bytes");
    }
}
