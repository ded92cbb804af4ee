using System.Numerics;

namespace Qcow2;

/// <summary>
/// The refcounts computed by walking the metadata (QEMU's "IMRT"), one counter per host cluster. Stored in pages that are
/// allocated on first use, so memory follows the clusters really referenced rather than the file length an image claims;
/// counters are 16-bit when the image's refcounts are (as in QEMU), 64-bit otherwise.
/// </summary>
internal sealed class InMemoryRefcounts
{
    public const int PageBits = 16;
    public const int PageSize = 1 << PageBits;
    public const int PageMask = PageSize - 1;

    private ushort[]?[] narrowPages = [];
    private ulong[]?[] widePages = [];
    private readonly bool wide;

    public InMemoryRefcounts(long clusters, ulong maxRefcount)
    {
        MaxRefcount = maxRefcount;
        wide = maxRefcount > ushort.MaxValue;
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
            var index = (int)(cluster & PageMask);
            return wide
                ? widePages[cluster >> PageBits] is { } w ? w[index] : 0
                : narrowPages[cluster >> PageBits] is { } n ? n[index] : 0UL;
        }
    }

    /// <summary>The 16-bit counts of [first, first + count) as one span, when they lie in one page that exists.</summary>
    public bool TryGetNarrow(long first, int count, out ReadOnlySpan<ushort> counts)
    {
        counts = default;
        var page = first >> PageBits;
        if (wide || count <= 0 || first + count > Count || ((first + count - 1) >> PageBits) != page
            || page >= narrowPages.Length || narrowPages[page] is not { } pageCounts)
            return false;
        counts = pageCounts.AsSpan((int)(first & PageMask), count);
        return true;
    }

    /// <summary>Adds one reference; false when the count is already at the refcount width's maximum.</summary>
    public bool TryIncrement(long cluster)
    {
        if (cluster >= Count)
            EnsureCount(cluster + 1);
        var index = (int)(cluster & PageMask);
        if (wide)
        {
            ref var count = ref (widePages[cluster >> PageBits] ??= new ulong[PageSize])[index];
            if (count >= MaxRefcount)
                return false;
            count++;
        }
        else
        {
            ref var count = ref (narrowPages[cluster >> PageBits] ??= new ushort[PageSize])[index];
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
        var index = (int)(cluster & PageMask);
        if (wide)
            (widePages[cluster >> PageBits] ??= new ulong[PageSize])[index] = value;
        else
            (narrowPages[cluster >> PageBits] ??= new ushort[PageSize])[index] = (ushort)value;
    }

    /// <summary>Whether any cluster in [first, first + count) has a non-zero count.</summary>
    public bool AnyInRange(long first, long count)
    {
        var end = Math.Min(first + count, Count);
        for (var cluster = first; cluster < end;)
        {
            var pageIndex = cluster >> PageBits;
            var pageEnd = Math.Min(end, (pageIndex + 1) << PageBits);
            var start = (int)(cluster & PageMask);
            var length = (int)(pageEnd - cluster);
            var any = wide
                ? widePages[pageIndex] is { } w && w.AsSpan(start, length).ContainsAnyExcept(0UL)
                : narrowPages[pageIndex] is { } n && n.AsSpan(start, length).ContainsAnyExcept((ushort)0);
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
    public bool AnyMarked(int page, ReadOnlySpan<ulong> marks, bool one) => wide
        ? AnyMarked(page < widePages.Length ? widePages[page] : null, marks, one)
        : AnyMarked(page < narrowPages.Length ? narrowPages[page] : null, marks, one);

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

    public void Clear()
    {
        Array.Clear(narrowPages);
        Array.Clear(widePages);
    }

    public void EnsureCount(long clusters)
    {
        if (clusters <= Count)
            return;
        var needed = checked((int)((clusters + PageSize - 1) >> PageBits));
        if (wide && needed > widePages.Length)
            Array.Resize(ref widePages, Math.Max(needed, widePages.Length * 2));
        if (!wide && needed > narrowPages.Length)
            Array.Resize(ref narrowPages, Math.Max(needed, narrowPages.Length * 2));
        Count = clusters;
    }
}
