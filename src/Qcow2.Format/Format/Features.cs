namespace Qcow2;

/// <summary>The feature bits QEMU 7.2 knows (spec §1.2) and the name table it writes.</summary>
internal static class Features
{
    public const ulong Dirty = 1UL << 0;
    public const ulong Corrupt = 1UL << 1;
    public const ulong ExternalDataFile = 1UL << 2;
    public const ulong CompressionType = 1UL << 3;
    public const ulong ExtendedL2 = 1UL << 4;
    public const ulong KnownIncompatible = 0x1F;

    public const ulong LazyRefcounts = 1UL << 0;
    public const ulong KnownCompatible = 0x1;

    public const ulong Bitmaps = 1UL << 0;
    public const ulong RawExternalData = 1UL << 1;
    public const ulong KnownAutoclear = 0x3;

    /// <summary>The table <c>qcow2_update_header</c> writes, in its order.</summary>
    public static readonly IReadOnlyList<Qcow2FeatureName> QemuNameTable =
    [
        new(Qcow2FeatureType.Incompatible, 0, "dirty bit"),
        new(Qcow2FeatureType.Incompatible, 1, "corrupt bit"),
        new(Qcow2FeatureType.Incompatible, 2, "external data file"),
        new(Qcow2FeatureType.Incompatible, 3, "compression type"),
        new(Qcow2FeatureType.Incompatible, 4, "extended L2 entries"),
        new(Qcow2FeatureType.Compatible, 0, "lazy refcounts"),
        new(Qcow2FeatureType.Autoclear, 0, "bitmaps"),
        new(Qcow2FeatureType.Autoclear, 1, "raw external data"),
    ];
}
