namespace Qcow2;

/// <summary>The feature bits QEMU 7.2 knows (spec §1.2), as raw header values, and the name table it writes.</summary>
internal static class Features
{
    public const ulong Dirty = (ulong)Qcow2IncompatibleFeatures.Dirty;
    public const ulong Corrupt = (ulong)Qcow2IncompatibleFeatures.Corrupt;
    public const ulong ExternalDataFile = (ulong)Qcow2IncompatibleFeatures.ExternalDataFile;
    public const ulong CompressionType = (ulong)Qcow2IncompatibleFeatures.CompressionType;
    public const ulong ExtendedL2 = (ulong)Qcow2IncompatibleFeatures.ExtendedL2;
    public const ulong KnownIncompatible = Dirty | Corrupt | ExternalDataFile | CompressionType | ExtendedL2;

    public const ulong LazyRefcounts = (ulong)Qcow2CompatibleFeatures.LazyRefcounts;
    public const ulong KnownCompatible = LazyRefcounts;

    public const ulong Bitmaps = (ulong)Qcow2AutoclearFeatures.Bitmaps;
    public const ulong RawExternalData = (ulong)Qcow2AutoclearFeatures.RawExternalData;
    public const ulong KnownAutoclear = Bitmaps | RawExternalData;

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
