namespace Qcow2;

/// <summary>QEMU 7.2's limits (spec §1.1, §3, §4, §10). Every allocation sized from the file is bounded by one of them.</summary>
internal static class Limits
{
    public const int MinClusterBits = 9;
    public const int MaxClusterBits = 21;
    public const uint MaxL1Entries = 4 * 1024 * 1024;
    public const long MaxL1Bytes = 32L * 1024 * 1024;
    public const long MaxRefcountTableBytes = 8L * 1024 * 1024;
    public const uint MaxSnapshots = 65536;
    public const long MaxSnapshotTableBytes = 64L * 1024 * 1024;
    public const uint MaxSnapshotExtraData = 1024;
    public const uint MaxBitmaps = 65535;
    public const uint MaxBitmapDirectorySize = 1024 * MaxBitmaps;
    public const uint MaxNameSize = 1023;
    public const int MaxBackingFormatLength = 15;
    public const int MinSubclusterSize = 512;
    /// <summary>
    /// How far past the end of the file a repair may grow it (to reach a refcount block outside the image, or to place rebuilt
    /// refcount structures after a range the metadata claims). A truncated image lost its tail, not exabytes; further than this
    /// the offset is the file's word alone, and the check rebuilds (or fails) instead of writing wherever it says.
    /// </summary>
    public const long MaxRepairGrowth = 1L << 30;
    /// <summary>The generic block layer's limit: INT64_MAX rounded down to 1 GiB.</summary>
    public const long MaxVirtualSize = 0x7FFF_FFFF_C000_0000;
}

/// <summary>Names of the run-time values the declared rules refer to.</summary>
internal static class ContextKeys
{
    public const string ClusterSize = "ClusterSize";
    public const string VirtualSize = "VirtualSize";
}

/// <summary>Overflow-free rounding helpers.</summary>
internal static class Align
{
    public static long Up8(long value) => (value + 7) & ~7L;

    public static ulong DivideRoundUp(ulong value, ulong divisor) => value / divisor + (value % divisor == 0 ? 0UL : 1UL);
}

/// <summary>QEMU's block layer refuses any I/O that reaches past BDRV_MAX_LENGTH (INT64_MAX rounded down to 1 GiB) with EIO.</summary>
internal static class Addressable
{
    public const ulong MaxLength = (ulong)Limits.MaxVirtualSize;

    /// <summary>
    /// The last line of defence for every read and write of the storage: QEMU's block layer fails I/O past BDRV_MAX_LENGTH with
    /// EIO, so an offset computed from a hostile value (negative once cast to long) is an invalid image, not a caller error.
    /// </summary>
    public static void RequireIo(long offset, long length)
    {
        if (offset < 0 || (ulong)offset > MaxLength || (ulong)length > MaxLength - (ulong)offset)
            throw new Qcow2FormatException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Input/output error (I/O at offset {(ulong)offset} of {length} bytes reaches past the largest readable offset {MaxLength})"),
                null, ((ulong)offset).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Throws QEMU's read error when [offset, offset + length) cannot be read.</summary>
    public static void Require(ulong offset, ulong length, string qemuMessage, string field, long fieldOffset)
    {
        if (offset > MaxLength || length > MaxLength - offset)
            throw Qcow2FormatException.ForField(qemuMessage + ": Input/output error", field, fieldOffset, offset,
                $"plus {length} bytes reaches past the largest readable offset {MaxLength}");
    }
}
