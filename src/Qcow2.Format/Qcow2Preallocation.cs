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
