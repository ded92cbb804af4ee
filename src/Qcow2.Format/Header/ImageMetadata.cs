namespace Qcow2;

/// <summary>
/// Everything cluster 0 and the tables hanging off the header describe, as one mutable model. The header is rebuilt
/// from it by <see cref="HeaderWriter"/>; later features (check, resize, bitmap editing) change it and rewrite.
/// </summary>
internal sealed class ImageMetadata
{
    public Qcow2Header Header;

    /// <summary>Header bytes 112..header_length that this version does not know; written back unchanged.</summary>
    public byte[] UnknownHeaderFields { get; set; } = [];

    public string? BackingFileName { get; set; }
    public string? BackingFormat { get; set; }
    public string? DataFileName { get; set; }
    public FullDiskEncryptionExtensionData? FullDiskEncryption { get; set; }

    /// <summary>The bitmaps extension when it is trusted (autoclear bit 0 set); null otherwise.</summary>
    public BitmapsExtensionData? BitmapsExtension { get; set; }

    /// <summary>Unknown extensions in file order (QEMU reverses them on every rewrite; we do not).</summary>
    public List<Qcow2UnknownHeaderExtension> UnknownExtensions { get; } = [];

    /// <summary>The extensions as they are on disk, in file order.</summary>
    public IReadOnlyList<Qcow2HeaderExtension> Extensions { get; set; } = [];

    public IReadOnlyList<Qcow2Bitmap> Bitmaps { get; set; } = [];
    public IReadOnlyList<Qcow2Snapshot> Snapshots { get; set; } = [];
    public List<string> Warnings { get; } = [];

    public int ClusterBits => (int)Header.ClusterBits;
    public int ClusterSize => 1 << (int)Header.ClusterBits;

    /// <summary>QEMU works with the size rounded down to whole 512-byte sectors and writes that value back.</summary>
    public ulong VirtualSize => Header.VirtualSize & ~511UL;

    public bool ExtendedL2 => (Header.IncompatibleFeatures & Features.ExtendedL2) != 0;

    public bool HasExternalDataFile => (Header.IncompatibleFeatures & Features.ExternalDataFile) != 0;

    public int RefcountOrder => (int)Header.RefcountOrder;

    public L1L2Geometry Geometry => new(ClusterBits, ExtendedL2);

    public ClusterClassifier Classifier => ClusterClassifier.For(this);
}
