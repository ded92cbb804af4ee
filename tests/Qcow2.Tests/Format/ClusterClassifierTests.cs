namespace Qcow2.Tests.Format;

/// <summary>The classifier against QEMU 7.2's qcow2_get_cluster_type and qcow2_get_subcluster_type, case by case.</summary>
public sealed class ClusterClassifierTests
{
    private static readonly ClusterClassifier Standard = new(ExtendedL2: false, ExternalDataFile: false);
    private static readonly ClusterClassifier Extended = new(ExtendedL2: true, ExternalDataFile: false);
    private static readonly ClusterClassifier DataFile = new(ExtendedL2: false, ExternalDataFile: true);

    [Theory]
    [InlineData(0x0000000000000000UL, (int)ClusterType.Unallocated)]
    [InlineData(0x0000000000000001UL, (int)ClusterType.ZeroPlain)]
    [InlineData(0x8000000000050001UL, (int)ClusterType.ZeroAllocated)]
    [InlineData(0x8000000000050000UL, (int)ClusterType.Normal)]
    [InlineData(0x0000000000050000UL, (int)ClusterType.Normal)]
    [InlineData(0x4000000000000123UL, (int)ClusterType.Compressed)]
    [InlineData(0x4000000000000001UL, (int)ClusterType.Compressed)]
    [InlineData(0x8000000000000000UL, (int)ClusterType.Unallocated)]
    public void Standard_entries(ulong value, int expected) => Assert.Equal((ClusterType)expected, Standard.Classify(new L2Entry(value)));

    [Theory]
    [InlineData(0x0000000000000001UL, (int)ClusterType.Unallocated)] // the zero flag is unused with subclusters
    [InlineData(0x8000000000050001UL, (int)ClusterType.Normal)]
    [InlineData(0x4000000000000123UL, (int)ClusterType.Compressed)]
    public void Extended_entries_ignore_the_zero_flag(ulong value, int expected) => Assert.Equal((ClusterType)expected, Extended.Classify(new L2Entry(value)));

    [Fact]
    public void With_a_data_file_offset_0_is_allocated_when_copied()
    {
        Assert.Equal(ClusterType.Normal, DataFile.Classify(new L2Entry(L2Entry.CopiedFlag)));
        Assert.Equal(ClusterType.Unallocated, DataFile.Classify(new L2Entry(0)));
        Assert.Equal(ClusterType.Unallocated, Standard.Classify(new L2Entry(L2Entry.CopiedFlag)));
    }

    [Theory]
    [InlineData(0x8000000000050000UL, 0x0000000000000001UL, 0, (int)SubclusterType.Normal)]
    [InlineData(0x8000000000050000UL, 0x0000000000000001UL, 1, (int)SubclusterType.UnallocatedAllocated)]
    [InlineData(0x8000000000050000UL, 0x0000000200000001UL, 1, (int)SubclusterType.ZeroAllocated)]
    [InlineData(0x8000000000050000UL, 0x0000000100000001UL, 5, (int)SubclusterType.Invalid)] // subcluster 0 allocated and zero
    [InlineData(0x0000000000000000UL, 0x0000000000000000UL, 3, (int)SubclusterType.UnallocatedPlain)]
    [InlineData(0x0000000000000000UL, 0x0000000800000000UL, 3, (int)SubclusterType.ZeroPlain)]
    [InlineData(0x0000000000000000UL, 0x0000000000000100UL, 3, (int)SubclusterType.Invalid)] // unallocated with an allocation bit
    [InlineData(0x4000000000000123UL, 0x0000000000000000UL, 7, (int)SubclusterType.Compressed)]
    public void Extended_subclusters(ulong entry, ulong bitmap, int subcluster, int expected) =>
        Assert.Equal((SubclusterType)expected, Extended.ClassifySubcluster(new L2Entry(entry), new L2Bitmap(bitmap), subcluster));

    [Theory]
    [InlineData(0x0000000000000000UL, (int)SubclusterType.UnallocatedPlain)]
    [InlineData(0x0000000000000001UL, (int)SubclusterType.ZeroPlain)]
    [InlineData(0x8000000000050001UL, (int)SubclusterType.ZeroAllocated)]
    [InlineData(0x8000000000050000UL, (int)SubclusterType.Normal)]
    [InlineData(0x4000000000000123UL, (int)SubclusterType.Compressed)]
    public void A_standard_cluster_is_its_only_subcluster(ulong entry, int expected) =>
        Assert.Equal((SubclusterType)expected, Standard.ClassifySubcluster(new L2Entry(entry), default, 0));

    [Fact]
    public void Preallocation_allocates_every_subcluster_but_the_zero_ones()
    {
        Assert.Equal(0x0000000FFFFFFFF0UL, new L2Bitmap(0x0000000F00000000UL).AllocateAllButZero().Value);
        Assert.Equal(L2Bitmap.AllAllocated, new L2Bitmap(0).AllocateAllButZero());
    }

    [Fact]
    public void Plain_entries_are_exactly_the_unallocated_and_aligned_normal_ones_without_reserved_bits()
    {
        const int clusterBits = 16;
        // Plain runs of different lengths (so that vector and scalar tails both meet every kind), then each kind of non-plain entry.
        ulong[] plain = [0, L2Entry.CopiedFlag, 0x8000000000050000UL, 0x0000000000070000UL, 0x80FFFFFFFFFF0000UL];
        ulong[] other = [1, 0x8000000000050001UL, 0x4000000000000123UL, 0x8000000000050200UL, 0x8100000000050000UL, 0x8000000000050002UL, 1UL << 62];
        var random = new Random(16);
        var entries = new ulong[512];
        for (var i = 0; i < entries.Length; i++)
            entries[i] = random.Next(4) == 0 ? other[random.Next(other.Length)] : plain[random.Next(plain.Length)];
        var table = new byte[entries.Length * sizeof(ulong)];
        var geometry = new L1L2Geometry(clusterBits, ExtendedL2: false);
        for (var i = 0; i < entries.Length; i++)
            geometry.WriteEntry(table, i, new L2Entry(entries[i]));

        for (var first = 0; first < entries.Length; first++)
        {
            var expected = 0;
            while (first + expected < entries.Length && IsPlain(new L2Entry(entries[first + expected])))
                expected++;
            Assert.Equal(expected, Standard.CountPlainEntries(table, first, clusterBits));
            Assert.Equal(0, Extended.CountPlainEntries(table, first, clusterBits));
            Assert.Equal(0, DataFile.CountPlainEntries(table, first, clusterBits));
        }

        static bool IsPlain(L2Entry entry) => !entry.HasReservedBits && Standard.Classify(entry) switch
        {
            ClusterType.Unallocated => true,
            ClusterType.Normal => (entry.HostOffset & ((1UL << clusterBits) - 1)) == 0,
            _ => false,
        };
    }
}
