namespace Qcow2;

/// <summary>How compressed clusters are encoded (header byte 104).</summary>
public enum Qcow2CompressionType
{
    /// <summary>zlib/deflate (type 0, the default).</summary>
    Zlib = 0,
    /// <summary>zstd (type 1; sets incompatible feature bit 3).</summary>
    Zstd = 1,
}

/// <summary>How guest data is encrypted (header crypt_method).</summary>
public enum Qcow2EncryptionMethod
{
    /// <summary>Not encrypted.</summary>
    None = 0,
    /// <summary>The legacy AES-CBC scheme.</summary>
    Aes = 1,
    /// <summary>LUKS; the LUKS header is located by a <see cref="FullDiskEncryptionExtension"/>.</summary>
    Luks = 2,
}

/// <summary>The feature field a feature-name-table entry names a bit of.</summary>
public enum Qcow2FeatureType
{
    /// <summary>incompatible_features</summary>
    Incompatible = 0,
    /// <summary>compatible_features</summary>
    Compatible = 1,
    /// <summary>autoclear_features</summary>
    Autoclear = 2,
}

/// <summary>One entry of the feature name table.</summary>
/// <param name="Type">The feature field (a raw value outside the enum is kept as read).</param>
/// <param name="Bit">The bit number, 0-63.</param>
/// <param name="Name">The human-readable name.</param>
public sealed record Qcow2FeatureName(Qcow2FeatureType Type, int Bit, string Name);
