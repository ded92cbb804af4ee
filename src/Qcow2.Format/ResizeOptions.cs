namespace Qcow2;

/// <summary>How <see cref="Qcow2Image.Resize"/> treats the new area of a grown image (<c>qemu-img resize --preallocation</c>).</summary>
public enum Qcow2Preallocation
{
    /// <summary>Nothing is allocated; the new area is unallocated and reads as zeros (the default).</summary>
    Off = 0,

    /// <summary>
    /// L2 tables and data clusters are allocated for the whole new area and the file is extended over them (sparse where
    /// the file system allows), as <c>qemu-img resize --preallocation=metadata</c> does: the entries are normal, COPIED
    /// data clusters whose host bytes are zero.
    /// </summary>
    Metadata = 1,
}

/// <summary>Options of <see cref="Qcow2Image.Resize"/>.</summary>
public sealed class ResizeOptions
{
    /// <summary>Allow a new size below the current one (<c>qemu-img resize --shrink</c>). Data past the new end is discarded.</summary>
    public bool AllowShrink { get; init; }

    /// <summary>What to allocate for the new area when growing; anything but <see cref="Qcow2Preallocation.Off"/> is refused when shrinking.</summary>
    public Qcow2Preallocation Preallocation { get; init; } = Qcow2Preallocation.Off;
}
