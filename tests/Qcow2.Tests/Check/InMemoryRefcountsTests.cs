using System.Buffers.Binary;

namespace Qcow2.Tests.Check;

/// <summary>
/// The computed refcounts start as 8-bit counters and widen a page when a count passes 255: every count stays exact up to
/// the refcount width's maximum, and the overflow is reported exactly there, whatever the width.
/// </summary>
public sealed class InMemoryRefcountsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_count_reaches_the_width_maximum_and_no_further(int refcountOrder)
    {
        var max = Refcounts.MaxRefcount(refcountOrder);
        var counts = new InMemoryRefcounts(3 * InMemoryRefcounts.PageSize, max);
        const long cluster = InMemoryRefcounts.PageSize + 7;
        for (ulong i = 0; i < max; i++)
            Assert.True(counts.TryIncrement(cluster));
        Assert.False(counts.TryIncrement(cluster));
        Assert.Equal(max, counts[cluster]);
        Assert.Equal(0UL, counts[cluster + 1]);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void A_page_widened_past_255_keeps_every_count_of_the_page(int refcountOrder)
    {
        var counts = new InMemoryRefcounts(2 * InMemoryRefcounts.PageSize, Refcounts.MaxRefcount(refcountOrder));
        const long page = InMemoryRefcounts.PageSize;
        for (var i = 0; i < 3; i++)
            counts.TryIncrement(page + 100);
        counts.TryIncrement(page + InMemoryRefcounts.PageMask);
        for (var i = 0; i < 300; i++)
            Assert.True(counts.TryIncrement(page + 5));

        Assert.Equal(300UL, counts[page + 5]);
        Assert.Equal(3UL, counts[page + 100]);
        Assert.Equal(1UL, counts[page + InMemoryRefcounts.PageMask]);
        Assert.Equal(0UL, counts[page + 6]);
        // A widened page has no 8-bit span: the comparison goes cluster by cluster there, and whole elsewhere.
        Assert.False(counts.TryGetBytes(page, 16, out _));
        counts.TryIncrement(3);
        Assert.True(counts.TryGetBytes(0, 16, out var bytes));
        Assert.Equal(1, bytes[3]);
        Assert.True(counts.AnyInRange(page + 6, InMemoryRefcounts.PageSize - 6));
        Assert.False(counts.AnyInRange(page + 6, 94));
    }

    [Fact]
    public void A_16_bit_count_overflows_at_65535_after_widening()
    {
        var counts = new InMemoryRefcounts(10, Refcounts.MaxRefcount(4));
        for (var i = 0; i < ushort.MaxValue; i++)
            Assert.True(counts.TryIncrement(9));
        Assert.False(counts.TryIncrement(9));
        Assert.Equal((ulong)ushort.MaxValue, counts[9]);
    }

    [Fact]
    public void Set_widens_a_page_for_a_count_past_255_and_grows_the_range()
    {
        var counts = new InMemoryRefcounts(10, Refcounts.MaxRefcount(6));
        counts.TryIncrement(2);
        counts.Set(1, 1UL << 40);
        counts.Set(InMemoryRefcounts.PageSize * 5L, 1);
        Assert.Equal(1UL << 40, counts[1]);
        Assert.Equal(1UL, counts[2]);
        Assert.Equal(1UL, counts[InMemoryRefcounts.PageSize * 5L]);
        Assert.Equal(InMemoryRefcounts.PageSize * 5L + 1, counts.Count);
    }

    [Fact]
    public void Big_endian_16_bit_refcounts_equal_8_bit_counts_only_when_every_one_does()
    {
        var counts = new byte[37];
        for (var i = 0; i < counts.Length; i++)
            counts[i] = (byte)(i * 7);
        var block = new byte[counts.Length * 2 + 4];
        for (var i = 0; i < counts.Length; i++)
            BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(i * 2), counts[i]);
        Assert.True(Refcounts.Equal16(block, counts));

        // A high byte set, in the vectorised part and in the tail, or a low byte different: not equal.
        foreach (var at in (int[])[1, 20, 36])
        {
            var high = (byte[])block.Clone();
            high[at * 2] = 1;
            Assert.False(Refcounts.Equal16(high, counts));
            var low = (byte[])block.Clone();
            low[at * 2 + 1] ^= 0x10;
            Assert.False(Refcounts.Equal16(low, counts));
        }
    }

    [Fact]
    public void A_range_is_counted_at_once_only_within_one_8_bit_page_and_below_255()
    {
        const long page = InMemoryRefcounts.PageSize;
        var counts = new InMemoryRefcounts(3 * page, Refcounts.MaxRefcount(4));
        Assert.True(counts.TryIncrementRange(page - 40, 40));
        Assert.True(counts.TryIncrementRange(page - 37, 30));
        Assert.Equal(1UL, counts[page - 40]);
        Assert.Equal(2UL, counts[page - 37]);
        Assert.Equal(2UL, counts[page - 8]);
        Assert.Equal(1UL, counts[page - 7]);

        // Across pages, past the end, or over a count at 255: nothing changes.
        Assert.False(counts.TryIncrementRange(page - 2, 4));
        Assert.False(counts.TryIncrementRange(3 * page - 2, 4));
        for (var i = 0; i < 253; i++)
            counts.TryIncrement(page - 20);
        Assert.Equal(255UL, counts[page - 20]);
        Assert.False(counts.TryIncrementRange(page - 25, 10));
        Assert.Equal(2UL, counts[page - 25]);
        Assert.Equal(255UL, counts[page - 20]);

        // A widened page is counted one by one.
        counts.TryIncrement(page - 20);
        Assert.False(counts.TryIncrementRange(page - 30, 5));
        Assert.Equal(256UL, counts[page - 20]);
    }

    [Fact]
    public void A_range_of_COPIED_marks_is_the_marks_of_its_clusters()
    {
        var summary = new CopiedFlagSummary(1 << 21);
        summary.NoteRange(60, 70, copied: true);
        summary.NoteRange((1 << 20) - 3, 6, copied: true);
        Assert.False(summary.MayDisagree(CountedOnce()));
        foreach (var cluster in (long[])[60, 129, (1 << 20) - 3, (1 << 20) + 2])
        {
            var twice = CountedOnce();
            twice.TryIncrement(cluster);
            Assert.True(summary.MayDisagree(twice));
        }

        static InMemoryRefcounts CountedOnce()
        {
            var counts = new InMemoryRefcounts(1 << 21, Refcounts.MaxRefcount(4));
            for (var c = 60; c < 130; c++)
                counts.TryIncrement(c);
            for (var c = (1 << 20) - 3; c < (1 << 20) + 3; c++)
                counts.TryIncrement(c);
            return counts;
        }
    }
}
