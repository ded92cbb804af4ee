namespace Qcow2;

/// <summary>
/// QEMU 7.2's block permissions (<c>BLK_PERM_*</c>) that file-posix turns into lock bytes: bit i is byte 100 + i ("holds")
/// and byte 200 + i ("does not share"). See docs/locking.md.
/// </summary>
[Flags]
internal enum BlockPermissions
{
    None = 0,
    ConsistentRead = 1 << 0,
    Write = 1 << 1,
    WriteUnchanged = 1 << 2,
    Resize = 1 << 3,
    All = ConsistentRead | Write | WriteUnchanged | Resize,
}
