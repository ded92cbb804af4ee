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
