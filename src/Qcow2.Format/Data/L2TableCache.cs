namespace Qcow2;

/// <summary>
/// A bounded least-recently-used cache of L2 tables (QEMU's <c>l2-cache-size</c>), keyed by the table's host offset. A table
/// is one cluster of big-endian words, kept as host-order <see cref="ulong"/>s; with extended L2 entries every second word is
/// the subcluster bitmap. Safe for concurrent readers; the writer changes cached tables only under the image's write lock.
/// </summary>
internal sealed class L2TableCache(IImageStorage storage, int clusterSize, long capacityBytes)
{
    private readonly int capacity = (int)Math.Clamp(capacityBytes / clusterSize, 2, int.MaxValue);
    private readonly Dictionary<long, LinkedListNode<(long Offset, ulong[] Table)>> tables = [];
    private readonly LinkedList<(long Offset, ulong[] Table)> recency = new();
    private readonly Lock gate = new();

    /// <summary>The table at <paramref name="offset"/>, read from the file on a miss.</summary>
    public ulong[] Get(long offset)
    {
        lock (gate)
        {
            if (tables.TryGetValue(offset, out var hit))
            {
                recency.Remove(hit);
                recency.AddFirst(hit);
                return hit.Value.Table;
            }
        }
        var table = EntryTable.Read(storage, offset, clusterSize / sizeof(ulong));
        Put(offset, table);
        return table;
    }

    /// <summary>Caches a table the writer has just written, replacing any older copy.</summary>
    public void Put(long offset, ulong[] table)
    {
        lock (gate)
        {
            if (tables.Remove(offset, out var old))
                recency.Remove(old);
            tables[offset] = recency.AddFirst((offset, table));
            while (tables.Count > capacity)
            {
                tables.Remove(recency.Last!.Value.Offset);
                recency.RemoveLast();
            }
        }
    }

    /// <summary>Forgets a table (freed, or moved by a copy-on-write).</summary>
    public void Remove(long offset)
    {
        lock (gate)
        {
            if (tables.Remove(offset, out var old))
                recency.Remove(old);
        }
    }
}
