namespace Qcow2;

/// <summary>
/// What the COPIED pass needs to know of the active L2 tables, gathered while the reference walk reads them, so that a check
/// reads each table once: for every data cluster, whether an active entry points at it with COPIED set, and whether one does
/// with COPIED clear (two bits a cluster, in pages allocated on first use). Once the refcounts are final, the pass reads the
/// tables again only if some flag may disagree with them; then it walks them as before and reports exactly what it always did.
/// </summary>
internal sealed class CopiedFlagSummary
{
    /// <summary>
    /// 2^20 clusters a page: 128 KiB of bits, so that pages go straight to the large object heap instead of being copied out of
    /// the young generation (which would hold them twice for a while); untouched parts of them take no memory.
    /// </summary>
    private const int PageBits = 20;
    private const int CountPagesPerPage = 1 << (PageBits - InMemoryRefcounts.PageBits);
    private const int WordsPerCountPage = InMemoryRefcounts.PageSize / 64;

    private readonly long clusters;
    private ulong[]?[] copiedSet;
    private ulong[]?[] copiedClear;

    /// <param name="clusters">The clusters of the file: an entry pointing past them sends the COPIED pass back to the tables.</param>
    public CopiedFlagSummary(long clusters)
    {
        this.clusters = clusters;
        var pages = (int)((clusters + (1L << PageBits) - 1) >> PageBits);
        copiedSet = new ulong[]?[pages];
        copiedClear = new ulong[]?[pages];
    }

    /// <summary>Whether only a walk of the tables can tell (an entry the summary cannot hold was seen).</summary>
    public bool Undecided { get; private set; }

    /// <summary>Notes an active entry with a host cluster.</summary>
    public void Note(long cluster, bool copied)
    {
        if ((ulong)cluster >= (ulong)clusters)
        {
            Undecided = true;
            return;
        }
        var pages = copied ? copiedSet : copiedClear;
        var page = pages[cluster >> PageBits] ??= new ulong[(1 << PageBits) / 64];
        var index = (int)(cluster & ((1 << PageBits) - 1));
        page[index >> 6] |= 1UL << index;
    }

    /// <summary>Notes active entries with the same flag for the clusters [first, first + count).</summary>
    public void NoteRange(long first, int count, bool copied)
    {
        if ((ulong)first + (ulong)count > (ulong)clusters || ((first + count - 1) >> PageBits) != (first >> PageBits))
        {
            for (var cluster = first; cluster < first + count; cluster++)
                Note(cluster, copied);
            return;
        }
        var pages = copied ? copiedSet : copiedClear;
        var page = pages[first >> PageBits] ??= new ulong[(1 << PageBits) / 64];
        var index = (int)(first & ((1 << PageBits) - 1));
        for (var end = index + count; index < end;)
        {
            var bit = index & 63;
            var bits = Math.Min(64 - bit, end - index);
            page[index >> 6] |= (bits == 64 ? ulong.MaxValue : (1UL << bits) - 1) << bit;
            index += bits;
        }
    }

    /// <summary>Notes an entry whose flag the summary cannot judge (for example one whose refcount is known only from the entry itself).</summary>
    public void MarkUndecided() => Undecided = true;

    /// <summary>
    /// Whether some noted flag may disagree with <paramref name="refcounts"/>, the final refcounts: COPIED set on a cluster whose
    /// refcount is not 1, or clear on one whose refcount is 1.
    /// </summary>
    public bool MayDisagree(InMemoryRefcounts refcounts)
    {
        if (Undecided)
            return true;
        for (var p = 0; p < copiedSet.Length; p++)
        {
            for (var c = 0; c < CountPagesPerPage; c++)
            {
                // The marks of one page of counts.
                var countPage = p * CountPagesPerPage + c;
                if (copiedSet[p] is { } set && refcounts.AnyMarked(countPage, set.AsSpan(c * WordsPerCountPage, WordsPerCountPage), one: false))
                    return true;
                if (copiedClear[p] is { } clear && refcounts.AnyMarked(countPage, clear.AsSpan(c * WordsPerCountPage, WordsPerCountPage), one: true))
                    return true;
            }
        }
        return false;
    }
}
