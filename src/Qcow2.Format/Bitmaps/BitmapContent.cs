namespace Qcow2;

/// <summary>
/// The contents of a bitmap table that is (re)written. The writer asks for the serialized bitmap one cluster at a time, in
/// increasing order of table index, so an implementation can stream (never hold a whole bitmap in memory).
/// </summary>
internal abstract class BitmapContent
{
    /// <summary>A bitmap with no bit set: every table entry is 0 and no data cluster is written.</summary>
    public static BitmapContent Empty { get; } = new EmptyContent();

    /// <summary>
    /// Produces table entry <paramref name="index"/> (stream bytes [index·cs, (index+1)·cs)). Either fills
    /// <paramref name="cluster"/> (all zeros on entry; the writer clears the tail bits past the last valid bit, writes a data
    /// cluster only if a bit is set, and uses entry 0 otherwise) and returns null; or returns a table entry of the bitmap being
    /// replaced to keep as it is: 0, the all-ones entry 1, or a data cluster's offset, which then moves to the new table and is
    /// not freed. An entry may be kept only when its cluster needs no change (in particular no tail bit to clear).
    /// </summary>
    public abstract ulong? Produce(long index, Span<byte> cluster);

    private sealed class EmptyContent : BitmapContent
    {
        public override ulong? Produce(long index, Span<byte> cluster) => 0;
    }
}
