namespace Qcow2;

/// <summary>A range of guest bytes: <see cref="Length"/> bytes from <see cref="Start"/>.</summary>
/// <param name="Start">The first guest byte.</param>
/// <param name="Length">The number of bytes; always positive.</param>
public readonly record struct Qcow2GuestRange(long Start, long Length)
{
    /// <summary>The guest byte just past the range.</summary>
    public long End => Start + Length;
}
