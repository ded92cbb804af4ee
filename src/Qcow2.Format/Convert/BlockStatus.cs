namespace Qcow2;

/// <summary>
/// The block status QEMU reports for a run of guest bytes (<c>BDRV_BLOCK_*</c>), which <c>qemu-img compare -s</c> compares
/// exactly: runs are split where QEMU's are (L2 table ends, host discontinuities, single compressed clusters).
/// </summary>
internal readonly record struct BlockStatus(long Start, long Length, int Flags)
{
    public const int Data = 0x01, Zero = 0x02, OffsetValid = 0x04, Allocated = 0x10, EndOfFile = 0x20;

    public long End => Start + Length;

    /// <summary>The disk's status runs over [offset, offset + length), unmerged, each with its QEMU flags.</summary>
    public static IEnumerable<BlockStatus> Of(Qcow2VirtualDisk disk, long offset, long length)
    {
        var size = disk.Length;
        if (disk.Image is not { } image)
        {
            // A raw file: data, except the holes of a sparse file, which QEMU's file driver reports as zeros.
            foreach (var e in disk.GetAllocation(offset, length))
                yield return new BlockStatus(e.Start, e.Length,
                    (e.Kind == Qcow2ExtentKind.Data ? Data : Zero) | OffsetValid | Allocated | (e.End == size ? EndOfFile : 0));
            yield break;
        }
        var hasBacking = new List<bool>();
        for (Qcow2Image? layer = image; layer is not null; layer = layer.BackingImage)
            hasBacking.Add(layer.BackingImage is not null);
        foreach (var e in image.GetAllocationAtDepth(offset, length, 0))
        {
            var flags = e.Kind switch
            {
                Qcow2ExtentKind.Data => Data | Allocated,
                Qcow2ExtentKind.Zero => Zero | Allocated,
                Qcow2ExtentKind.ZeroData => Data | Zero | Allocated,
                // Past the end of a shorter backing file QEMU synthesizes zeros "allocated" at that layer.
                _ => hasBacking[e.Depth] ? Zero | Allocated : Zero,
            };
            if (e.HostOffset is not null && !(e.Kind == Qcow2ExtentKind.Unallocated && hasBacking[e.Depth]))
                flags |= OffsetValid;
            if (e.End == size)
                flags |= EndOfFile;
            yield return new BlockStatus(e.Start, e.Length, flags);
        }
    }
}
