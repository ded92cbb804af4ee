namespace Qcow2.Tests.Format;

/// <summary>The internal building blocks that check/repair and resize will use.</summary>
public sealed class InternalsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void Refcounts_round_trip_at_every_width_without_touching_neighbours(int order)
    {
        var block = new byte[512];
        var entries = Refcounts.EntriesPerBlock(9, order);
        Assert.Equal(512 * 8 >> order, entries);
        var max = Refcounts.MaxRefcount(order);
        for (long i = 0; i < entries; i++)
            Refcounts.Set(block, i, order, (ulong)i % 3 == 0 ? max : (ulong)i & max);
        for (long i = 0; i < entries; i++)
            Assert.Equal((ulong)i % 3 == 0 ? max : (ulong)i & max, Refcounts.Get(block, i, order));
        Assert.Throws<ArgumentOutOfRangeException>(() => Refcounts.Set(block, 0, order, order == 6 ? throw new ArgumentOutOfRangeException() : max + 1));
    }

    [Fact]
    public void Narrow_refcounts_are_packed_lsb_first()
    {
        var block = new byte[1];
        Refcounts.Set(block, 0, 0, 1);
        Refcounts.Set(block, 3, 0, 1);
        Assert.Equal(0b0000_1001, block[0]);
        block[0] = 0;
        Refcounts.Set(block, 1, 2, 0xA);
        Assert.Equal(0xA0, block[0]);
        var wide = new byte[4];
        Refcounts.Set(wide, 1, 4, 0x1234);
        Assert.Equal(new byte[] { 0, 0, 0x12, 0x34 }, wide);
    }

    [Fact]
    public void Entry_masks_follow_the_spec()
    {
        var l1 = new L1Entry(0x8000000000050000);
        Assert.True(l1.Copied);
        Assert.Equal(0x50000ul, l1.L2Offset);
        Assert.False(l1.HasReservedBits);
        Assert.True(new L1Entry(0x0100000000050000).HasReservedBits);

        var l2 = new L2Entry(0x8000000000060001);
        Assert.Equal(ClusterType.ZeroAllocated, new ClusterClassifier(ExtendedL2: false, ExternalDataFile: false).Classify(l2));
        Assert.Equal(0x60000ul, l2.HostOffset);
        Assert.True(new L2Entry(0x8100000000060000).HasReservedBits);
        Assert.True(new L2Entry(0x4000000000000123).Compressed);
        Assert.Equal(0ul, new L2Entry(0x4000000000000123).HostOffset);

        Assert.True(new RefcountTableEntry(0x20001).HasReservedBits);
        Assert.Equal(0x20000ul, new RefcountTableEntry(0x20001).BlockOffset);

        Assert.True(new BitmapTableEntry(0x10000).IsValid(65536));
        Assert.True(new BitmapTableEntry(1).IsValid(65536));
        Assert.False(new BitmapTableEntry(0x10001).IsValid(65536));
        Assert.False(new BitmapTableEntry(0x10200).IsValid(65536));
        Assert.False(new BitmapTableEntry(0x0100000000000000).IsValid(65536));
    }

    [Theory]
    [InlineData(64L << 20, 16, 65536, 1)]
    [InlineData(64L << 20, 9, 512, 32)]
    [InlineData(1L << 40, 16, 65536, 32)]
    [InlineData(1, 31, 512, 1)]
    public void Bitmap_table_size_is_qemus_formula(long size, int granularityBits, int clusterSize, int expected) =>
        Assert.Equal((ulong)expected, BitmapTableEntry.RequiredTableSize((ulong)size, granularityBits, clusterSize));

    [Fact]
    public void L1_size_needs_no_overflowing_arithmetic()
    {
        Assert.Equal(1ul << 34, new L1L2Geometry(16, false).RequiredL1Entries(1UL << 63));
        Assert.Equal(1ul << 35, new L1L2Geometry(16, false).RequiredL1Entries(ulong.MaxValue));
        Assert.Equal(2ul, new L1L2Geometry(16, true).RequiredL1Entries((1UL << 28) + 1));
    }

    [Fact]
    public void Stream_storage_reads_zeros_past_the_end_and_needs_a_writable_stream_for_writing()
    {
        var storage = new StreamStorage(new MemoryStream([1, 2, 3]), writable: false, leaveOpen: false);
        var buffer = new byte[6];
        buffer.AsSpan().Fill(0xFF);
        storage.Read(1, buffer);
        Assert.Equal(new byte[] { 2, 3, 0, 0, 0, 0 }, buffer);
        storage.Read(100, buffer);
        Assert.All(buffer, b => Assert.Equal(0, b));
        Assert.Throws<ArgumentException>(() => Qcow2Image.Open(new MemoryStream(new byte[16], writable: false), new Qcow2OpenOptions { Writable = true }));
    }

    [Theory]
    [InlineData(512, 64)]
    [InlineData(512, 1)]
    [InlineData(65536, 16)]
    public void Created_refcount_structures_count_every_used_cluster_once(int clusterSize, int refcountBits)
    {
        var path = Path.GetTempFileName();
        try
        {
            using var image = Qcow2Image.Create(path, 2L << 30, new Qcow2CreateOptions { ClusterSize = clusterSize, RefcountBits = refcountBits });
            var header = image.Metadata.Header;
            var order = (int)header.RefcountOrder;
            var perBlock = Refcounts.EntriesPerBlock(image.ClusterBits, order);
            var table = EntryTable.Read(image.Storage, (long)header.RefcountTableOffset, (int)(header.RefcountTableClusters * (uint)clusterSize / 8));
            var usedClusters = (image.FileLength + clusterSize - 1) / clusterSize;
            var block = new byte[clusterSize];
            // Every used cluster, and the rest of the last refcount block (which must be free).
            var end = Math.Min(table.Length * perBlock, (usedClusters + perBlock - 1) / perBlock * perBlock);
            for (long cluster = 0; cluster < end; cluster++)
            {
                var entry = new RefcountTableEntry(table[cluster / perBlock]);
                Assert.False(entry.HasReservedBits);
                if (cluster % perBlock == 0 && entry.BlockOffset != 0)
                    image.Storage.Read((long)entry.BlockOffset, block);
                var refcount = entry.BlockOffset == 0 ? 0 : Refcounts.Get(block, cluster % perBlock, order);
                Assert.Equal(cluster < usedClusters ? 1ul : 0ul, refcount);
            }
            // The L1 table is the last thing in the file and is all zeros (nothing allocated yet).
            var l1 = EntryTable.Read(image.Storage, (long)header.L1TableOffset, (int)header.L1Size);
            Assert.All(l1, e => Assert.Equal(0ul, new L1Entry(e).L2Offset));
            Assert.Equal((long)header.L1TableOffset + header.L1Size * 8L, image.FileLength);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void File_storage_reads_zeros_past_the_end()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [7, 8]);
            using var storage = FileStorage.Open(path, writable: false, forceShare: false);
            var buffer = new byte[4];
            storage.Read(1, buffer);
            Assert.Equal(new byte[] { 8, 0, 0, 0 }, buffer);
            Assert.Equal(2, storage.Length);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
