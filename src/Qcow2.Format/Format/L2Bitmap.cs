namespace Qcow2;

/// <summary>
/// The second 64-bit word of an extended L2 entry (spec §4.3): bit x says subcluster x is allocated, bit 32 + x that it
/// reads as zeros. Standard entries have none; they read as 0 here.
/// </summary>
internal readonly record struct L2Bitmap(ulong Value)
{
    public const ulong AllocationMask = 0x0000_0000_FFFF_FFFF;
    public const ulong ZeroMask = 0xFFFF_FFFF_0000_0000;

    /// <summary>Every subcluster reads as zeros.</summary>
    public static L2Bitmap AllZero => new(ZeroMask);

    /// <summary>Every subcluster is allocated.</summary>
    public static L2Bitmap AllAllocated => new(AllocationMask);

    public bool AnyAllocated => (Value & AllocationMask) != 0;

    /// <summary>A subcluster marked both allocated and zero: QEMU's "corrupted subcluster allocation bitmap".</summary>
    public bool IsCorrupt => ((Value >> 32) & Value) != 0;

    public bool IsAllocated(int subcluster) => (Value & (1UL << subcluster)) != 0;

    public bool IsZero(int subcluster) => (Value & (1UL << (subcluster + 32))) != 0;

    /// <summary>The same zero bits, with every subcluster that does not read as zeros allocated (metadata preallocation).</summary>
    public L2Bitmap AllocateAllButZero() => new((Value & ZeroMask) | (~(Value >> 32) & AllocationMask));
}
