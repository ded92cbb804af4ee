namespace Qcow2;

/// <summary>What a range of the virtual disk reads as, as <see cref="Qcow2Image.GetAllocation"/> reports it.</summary>
public enum Qcow2ExtentKind
{
    /// <summary>Data stored by the image at <see cref="Qcow2Extent.Depth"/> (plain or compressed).</summary>
    Data,
    /// <summary>Reads as zeros because a zero (sub)cluster says so; a preallocated one keeps its host cluster.</summary>
    Zero,
    /// <summary>
    /// No image of the opened chain allocates it: it reads as zeros, or from a backing file the image names but that was not
    /// opened (<see cref="Qcow2OpenOptions.OpenBackingChain"/>).
    /// </summary>
    Unallocated,
    /// <summary>
    /// A data cluster whose bytes in the file are a hole, so it reads as zeros while keeping its host cluster (what
    /// <c>qemu-img map</c> reports as both zero and data). As in QEMU, the file is asked about its holes only for an image that
    /// looks preallocated with metadata (far more clusters in use than the file occupies on disk).
    /// </summary>
    ZeroData,
}

/// <summary>A run of guest bytes with the same allocation (the facts <c>qemu-img map</c> prints).</summary>
/// <param name="Start">The first guest byte.</param>
/// <param name="Length">The number of bytes; always positive.</param>
/// <param name="Kind">Data, zeros or unallocated.</param>
/// <param name="Compressed">Whether the data is in compressed clusters (then <paramref name="HostOffset"/> is null).</param>
/// <param name="HostOffset">
/// The byte of the image file (or of the external data file, for an image that has one) holding <paramref name="Start"/>, for
/// plain data, preallocated zeros, and unallocated subclusters of an allocated cluster (extended L2) that no backing image
/// covers; null otherwise.
/// </param>
/// <param name="Depth">0 for this image, 1 for its backing image, and so on.</param>
public readonly record struct Qcow2Extent(long Start, long Length, Qcow2ExtentKind Kind, bool Compressed, long? HostOffset, int Depth)
{
    /// <summary>The guest byte just past the extent.</summary>
    public long End => Start + Length;
}
