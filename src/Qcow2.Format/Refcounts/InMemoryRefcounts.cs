using System.Numerics;
using System.Runtime.Intrinsics;

namespace Qcow2;

/// <summary>
/// The refcounts computed by walking the metadata (QEMU's "IMRT"), one counter per host cluster. Stored in pages that are
/// allocated on first use, so memory follows the clusters really referenced rather than the file length an image claims.
/// Nearly every count is 0 or 1, so a page starts with 8-bit counters (half of QEMU's 16 bits); the first count in it to pass
/// 255 widens the whole page to the image's refcount width (16-bit counters when its refcounts fit, 64-bit otherwise), so
/// a page never takes more than it did with counters of that width alone, and a count is exact up to the width's maximum.
/// </summary>
internal sealed class InMemoryRefcounts
{
    /// <summary>
    /// 2^17 clusters a page: 128 KiB of 8-bit counts, so that pages go straight to the large object heap instead of being
    /// copied out of the young generation (which would hold them twice for a while).
    /// </summary>
    public const int PageBits = 17;
    public const int PageSize = 1 << PageBits;
    public const int PageMask = PageSize - 1;

    /// <summary>Pages of 8-bit counts; null where the page is empty or was widened.</summary>
    private byte[]?[] bytePages = [];
    /// <summary>Widened pages, when <see cref="MaxRefcount"/> fits 16 bits.</summary>
    private ushort[]?[] narrowPages = [];
    /// <summary>Widened pages, when it does not.</summary>
    private ulong[]?[] widePages = [];
    private readonly bool wide;
    /// <summary>The largest count an 8-bit page holds: 255, or less when the refcounts are narrower.</summary>
    private readonly byte byteMax;

    public InMemoryRefcounts(long clusters, ulong maxRefcount)
    {
        MaxRefcount = maxRefcount;
        wide = maxRefcount > ushort.MaxValue;
        byteMax = (byte)Math.Min(maxRefcount, byte.MaxValue);
        EnsureCount(clusters);
    }

    /// <summary>The number of clusters covered (grows when a reference reaches past the end of the file).</summary>
    public long Count { get; private set; }

    /// <summary>The largest value a refcount on disk can hold.</summary>
    public ulong MaxRefcount { get; }

    public ulong this[long cluster]
    {
        get
        {
            if (cluster >= Count)
                return 0;
            var page = cluster >> PageBits;
            var index = (int)(cluster & PageMask);
            if (bytePages[page] is { } bytes)
                return bytes[index];
            return wide
                ? widePages[page] is { } w ? w[index] : 0
                : narrowPages[page] is { } n ? n[index] : 0UL;
        }
    }

    /// <summary>
    /// The counts of [first, first + count) as one span of 8-bit counts, when they lie in one page that exists and was not
    /// widened (otherwise ask cluster by cluster).
    /// </summary>
    public bool TryGetBytes(long first, int count, out ReadOnlySpan<byte> counts)
    {
        counts = default;
        var page = first >> PageBits;
        if (count <= 0 || first + count > Count || ((first + count - 1) >> PageBits) != page || bytePages[page] is not { } pageCounts)
            return false;
        counts = pageCounts.AsSpan((int)(first & PageMask), count);
        return true;
    }

    /// <summary>Adds one reference; false when the count is already at the refcount width's maximum.</summary>
    public bool TryIncrement(long cluster)
    {
        if (cluster >= Count)
            EnsureCount(cluster + 1);
        var page = cluster >> PageBits;
        var index = (int)(cluster & PageMask);
        if (bytePages[page] is { } bytes)
        {
            ref var count = ref bytes[index];
            if (count < byteMax)
            {
                count++;
                return true;
            }
        }
        else if (!IsWidened(page))
        {
            (bytePages[page] = new byte[PageSize])[index] = 1;
            return true;
        }
        return TryIncrementWidened(page, index);
    }

    /// <summary>
    /// Adds one reference to each cluster of [first, first + count) at once, when they lie in one page of 8-bit counts (or an
    /// empty one) and none is at the 8-bit maximum; otherwise changes nothing and returns false (count them one by one).
    /// </summary>
    public bool TryIncrementRange(long first, int count)
    {
        var page = first >> PageBits;
        if (count <= 0 || first + count > Count || ((first + count - 1) >> PageBits) != page)
            return false;
        if (bytePages[page] is not { } bytes)
        {
            if (IsWidened(page))
                return false;
            bytes = bytePages[page] = new byte[PageSize];
        }
        var counts = bytes.AsSpan((int)(first & PageMask), count);
        if (counts.Contains(byteMax))
            return false;
        var i = 0;
        for (; i <= counts.Length - Vector128<byte>.Count; i += Vector128<byte>.Count)
        {
            var part = counts.Slice(i, Vector128<byte>.Count);
            (Vector128.Create(part) + Vector128<byte>.One).CopyTo(part);
        }
        for (; i < counts.Length; i++)
            counts[i]++;
        return true;
    }

    /// <summary>The rare case: a count past 255, or one at the maximum of narrow refcounts.</summary>
    private bool TryIncrementWidened(long page, int index)
    {
        if (bytePages[page] is not null)
        {
            if (MaxRefcount <= byteMax)
                return false;
            Widen(page);
        }
        if (wide)
        {
            ref var count = ref widePages[page]![index];
            if (count >= MaxRefcount)
                return false;
            count++;
        }
        else
        {
            ref var count = ref narrowPages[page]![index];
            if (count >= MaxRefcount)
                return false;
            count++;
        }
        return true;
    }

    /// <summary>Sets a count directly (for clusters a rebuild allocates).</summary>
    public void Set(long cluster, ulong value)
    {
        EnsureCount(cluster + 1);
        var page = cluster >> PageBits;
        var index = (int)(cluster & PageMask);
        if (!IsWidened(page))
        {
            if (value <= byteMax)
            {
                (bytePages[page] ??= new byte[PageSize])[index] = (byte)value;
                return;
            }
            Widen(page);
        }
        if (wide)
            widePages[page]![index] = value;
        else
            narrowPages[page]![index] = (ushort)value;
    }

    private bool IsWidened(long page) => wide ? widePages[page] is not null : narrowPages[page] is not null;

    /// <summary>Moves a page (of 8-bit counts, or none) to counters of the refcount width.</summary>
    private void Widen(long page)
    {
        var bytes = bytePages[page];
        if (wide)
        {
            var counts = widePages[page] = new ulong[PageSize];
            if (bytes is not null)
            {
                for (var i = 0; i < PageSize; i++)
                    counts[i] = bytes[i];
            }
        }
        else
        {
            var counts = narrowPages[page] = new ushort[PageSize];
            if (bytes is not null)
            {
                for (var i = 0; i < PageSize; i++)
                    counts[i] = bytes[i];
            }
        }
        bytePages[page] = null;
    }

    /// <summary>Whether any cluster in [first, first + count) has a non-zero count.</summary>
    public bool AnyInRange(long first, long count)
    {
        var end = Math.Min(first + count, Count);
        for (var cluster = first; cluster < end;)
        {
            var page = cluster >> PageBits;
            var pageEnd = Math.Min(end, (page + 1) << PageBits);
            var start = (int)(cluster & PageMask);
            var length = (int)(pageEnd - cluster);
            var any = bytePages[page] is { } b ? b.AsSpan(start, length).ContainsAnyExcept((byte)0)
                : wide ? widePages[page] is { } w && w.AsSpan(start, length).ContainsAnyExcept(0UL)
                : narrowPages[page] is { } n && n.AsSpan(start, length).ContainsAnyExcept((ushort)0);
            if (any)
                return true;
            cluster = pageEnd;
        }
        return false;
    }

    /// <summary>
    /// Whether, among the clusters of page <paramref name="page"/> whose bit is set in <paramref name="marks"/> (one bit a
    /// cluster), any has a count of 1 (<paramref name="one"/>) or any a count other than 1 (not <paramref name="one"/>).
    /// Whole words of marks compare 64 counts at once.
    /// </summary>
    public bool AnyMarked(int page, ReadOnlySpan<ulong> marks, bool one)
    {
        if (page >= bytePages.Length)
            return AnyMarked<byte>(null, marks, one);
        if (bytePages[page] is { } bytes)
            return AnyMarked(bytes, marks, one);
        return wide ? AnyMarked(widePages[page], marks, one) : AnyMarked(narrowPages[page], marks, one);
    }

    private static bool AnyMarked<T>(T[]? counts, ReadOnlySpan<ulong> marks, bool one) where T : unmanaged, INumber<T>
    {
        // A page never touched holds only zeros: none is 1, and every marked one is other than 1.
        if (counts is null)
            return !one && marks.ContainsAnyExcept(0UL);
        for (var word = 0; word < marks.Length; word++)
        {
            var bits = marks[word];
            if (bits == 0)
                continue;
            var span = counts.AsSpan(word << 6, 64);
            if (bits == ulong.MaxValue)
            {
                if (one ? span.Contains(T.One) : span.ContainsAnyExcept(T.One))
                    return true;
                continue;
            }
            for (; bits != 0; bits &= bits - 1)
            {
                if ((span[BitOperations.TrailingZeroCount(bits)] == T.One) == one)
                    return true;
            }
        }
        return false;
    }

    public void EnsureCount(long clusters)
    {
        if (clusters <= Count)
            return;
        var needed = checked((int)((clusters + PageSize - 1) >> PageBits));
        if (needed > bytePages.Length)
        {
            var pages = Math.Max(needed, bytePages.Length * 2);
            Array.Resize(ref bytePages, pages);
            if (wide)
                Array.Resize(ref widePages, pages);
            else
                Array.Resize(ref narrowPages, pages);
        }
        Count = clusters;
    }
}
