using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Bitmaps;

/// <summary>The internal two-phase directory writer, checked against qemu-img (which loads and validates every bitmap table).</summary>
public sealed class BitmapDirectoryWriterTests
{
    /// <summary>The serialized bitmap, read through the table (small bitmaps only).</summary>
    internal static byte[] ReadBits(Qcow2Image image, Qcow2Bitmap bitmap)
    {
        var cs = image.ClusterSize;
        var bits = new byte[(long)bitmap.TableSize * cs];
        var reader = EntryTableReader.ForBitmap(image.Storage, bitmap);
        for (long i = 0; i < bitmap.TableSize; i++)
        {
            var entry = new BitmapTableEntry(reader[i]);
            var span = bits.AsSpan((int)(i * cs), cs);
            if (entry.Offset != 0)
                image.Storage.Read((long)entry.Offset, span);
            else if (entry.Value == 1)
                span.Fill(0xFF);
        }
        return bits;
    }

    internal static bool Bit(byte[] bits, long i) => (bits[i / 8] & (1 << (int)(i % 8))) != 0;

    private static void AssertClean(string path)
    {
        var (exit, _, stderr) = Qemu.CheckJson(path);
        Assert.True(exit == 0, $"qemu-img check exited {exit}: {stderr}");
    }

    [QemuFact]
    public void Rewriting_every_table_keeps_the_bits_moves_the_directory_and_leaves_no_leak()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=512", path, "64M").EnsureSuccess("create");
        Qemu.Img("bitmap", "--add", "-g", "512", path, "fine").EnsureSuccess("add");
        Qemu.Img("bitmap", "--add", "--disable", path, "off").EnsureSuccess("add");
        Qemu.Io("-f", "qcow2", "-c", "write 0 4k", "-c", "write 40M 1k", path).EnsureSuccess("io");
        var infoBefore = Qemu.InfoJson(path).GetProperty("format-specific").GetProperty("data").GetProperty("bitmaps").ToString();

        byte[] before, after;
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            before = ReadBits(image, image.Bitmaps[0]);
            var oldDirectory = image.Metadata.BitmapsExtension!.Value.DirectoryOffset;
            var prepared = new BitmapDirectoryWriter(image).PrepareResized((ulong)image.VirtualSize);
            Assert.Equal(oldDirectory, image.Metadata.BitmapsExtension!.Value.DirectoryOffset); // phase 1 switches nothing
            prepared.Commit();
            Assert.NotEqual(oldDirectory, image.Metadata.BitmapsExtension!.Value.DirectoryOffset);
            after = ReadBits(image, image.Bitmaps[0]);
            Assert.Equal(0, image.Check().ExitCode());
        }
        Assert.Equal(before, after);
        Assert.True(Bit(after, 0) && Bit(after, 7) && !Bit(after, 8) && Bit(after, 40 * 2048) && Bit(after, 40 * 2048 + 1));
        AssertClean(path);
        Assert.Equal(infoBefore, Qemu.InfoJson(path).GetProperty("format-specific").GetProperty("data").GetProperty("bitmaps").ToString());
    }

    [QemuFact]
    public void Prepared_shrink_drops_entries_and_clears_tail_bits_by_copy_on_write()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=512", path, "64M").EnsureSuccess("create");
        Qemu.Img("bitmap", "--add", "-g", "512", path, "fine").EnsureSuccess("add");
        const long newSize = 32 * 1024 * 1024 - 51200; // 65436 valid bits; table entry 15 covers bits 61440..65535
        // bit 0, bit 65418 (valid, in the last cluster), bit 65486 (tail after the shrink), bits past the new end
        Qemu.Io("-f", "qcow2", "-c", "write 0 512", "-c", $"write {65418 * 512} 512", "-c", $"write {65486 * 512} 512", "-c", "write 60M 512", path).EnsureSuccess("io");

        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var old = image.Bitmaps[0];
            var oldTable = EntryTableReader.ForBitmap(image.Storage, old);
            var oldLast = oldTable[15];
            Assert.Equal(32, old.TableSize);
            var prepared = new BitmapDirectoryWriter(image).PrepareResized(newSize);
            Assert.Equal(16, prepared.Bitmaps[0].TableSize);
            prepared.ApplyToMetadata();
            image.Metadata.Header.VirtualSize = newSize; // the resize engineer's single header write also carries the size
            image.UpdateHeader();
            prepared.FreeOldClusters();

            var bits = ReadBits(image, image.Bitmaps[0]);
            Assert.True(Bit(bits, 0));
            Assert.True(Bit(bits, 65418));
            Assert.False(Bit(bits, 65486));
            var newTable = EntryTableReader.ForBitmap(image.Storage, image.Bitmaps[0]);
            Assert.NotEqual(oldLast, newTable[15]); // copied, not changed in place
            Assert.Equal(oldTable[0] == 0 ? 0UL : oldTable[0], newTable[0]); // untouched clusters are kept
        }
        AssertClean(path);
        var info = Qemu.InfoJson(path);
        Assert.Equal(newSize, info.GetProperty("virtual-size").GetInt64());
        Assert.Equal("fine", info.GetProperty("format-specific").GetProperty("data").GetProperty("bitmaps")[0].GetProperty("name").GetString());
        // qemu-io loads the bitmap (it validates the table size against the new size) and stores it back on close.
        Qemu.Io("-f", "qcow2", "-c", "write 0 512", path).EnsureSuccess("qemu-io after shrink");
        AssertClean(path);
    }

    /// <summary>
    /// Growing: new bits are clear. An all-ones entry in the old last cluster must not set the bits past the old end, while
    /// all-ones entries below it are kept as they are. QEMU then loads the grown bitmap (it checks the table size).
    /// </summary>
    [QemuFact]
    public void Prepared_grow_keeps_bits_and_leaves_the_new_ones_clear_even_after_an_all_ones_entry()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        // 512-byte clusters and granularity: a data cluster covers 2 MiB; 3 MiB = 6144 bits, so entry 1 is half valid.
        // Created at 8M and shrunk: QEMU keeps l1_size, so the L1 already covers the grown size we write into the header.
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=512", path, "8M").EnsureSuccess("create");
        Qemu.Img("resize", "-q", "--shrink", path, "3M").EnsureSuccess("shrink");
        Qemu.Img("bitmap", "--add", "-g", "512", path, "fine").EnsureSuccess("add");
        Qemu.Img("bitmap", "--add", "-g", "64k", path, "coarse").EnsureSuccess("add");
        Qemu.Io("-f", "qcow2", "-c", "write 4096 512", path).EnsureSuccess("io");
        const long newSize = 8L << 20;
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var fine = image.Bitmaps[0];
            // entry 0 all ones (0..2M), entry 1 all ones (2M..3M valid; the rest of its range is past the end)
            image.Storage.Write(fine.TableOffset, new byte[] { 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 });
        }
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            Assert.Equal("0+3145728", string.Join(" ", image.GetDirtyRanges("fine").Select(r => $"{r.Start}+{r.Length}")));
            var prepared = new BitmapDirectoryWriter(image).PrepareResized(newSize);
            Assert.Equal(4, prepared.Bitmaps[0].TableSize);
            prepared.ApplyToMetadata();
            image.Metadata.Header.VirtualSize = newSize; // stands in for the resize (the L1 is large enough already)
            image.UpdateHeader();
            prepared.FreeOldClusters();
            var table = EntryTableReader.ForBitmap(image.Storage, image.Bitmaps[0]);
            Assert.Equal(1UL, table[0]); // kept as it was
            Assert.NotEqual(1UL, table[1]); // became a data cluster holding bits 4096..6143 only
            Assert.Equal("0+3145728", string.Join(" ", image.GetDirtyRanges("fine").Select(r => $"{r.Start}+{r.Length}")));
            Assert.Equal("0+65536", string.Join(" ", image.GetDirtyRanges("coarse").Select(r => $"{r.Start}+{r.Length}")));
        }
        var info = Qemu.InfoJson(path);
        Assert.Equal(newSize, info.GetProperty("virtual-size").GetInt64());
        Assert.Equal(2, info.GetProperty("format-specific").GetProperty("data").GetProperty("bitmaps").GetArrayLength());
        // The byte edit above orphaned the data cluster of entry 0: one leak, nothing else.
        var check = Qemu.CheckJson(path);
        Assert.True(check.ExitCode == 3 && check.Json!.Value.GetProperty("leaks").GetInt32() == 1, check.StandardError);
        // QEMU loads the grown bitmap, records a write in the new area and stores it again.
        Qemu.Io("-f", "qcow2", "-c", "write -q 5M 512", path).EnsureSuccess("qemu-io");
        using var after = Qcow2Image.Open(path);
        Assert.Equal("0+3145728 5242880+512", string.Join(" ", after.GetDirtyRanges("fine").Select(r => $"{r.Start}+{r.Length}")));
    }

    [QemuFact]
    public void Prepared_resize_refuses_inconsistent_bitmaps()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", path, "1M").EnsureSuccess("create");
        Qemu.Img("bitmap", "--add", path, "b1").EnsureSuccess("add");
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            // Mark it in use the way a crashed QEMU leaves it.
            var entry = image.Metadata.Bitmaps[0].EntryOffset + 12;
            image.Storage.Write(entry, new byte[] { 0, 0, 0, 3 });
        }
        using var reopened = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true });
        var error = Assert.Throws<Qcow2FormatException>(() => new BitmapDirectoryWriter(reopened).PrepareResized(2 * 1024 * 1024));
        Assert.StartsWith("Bitmap 'b1' is inconsistent and cannot be used", error.Message);
    }
}
