namespace Qcow2;

/// <summary>How compressed clusters are encoded (header byte 104).</summary>
public enum Qcow2CompressionType
{
    /// <summary>zlib/deflate (type 0, the default).</summary>
    Zlib = 0,
    /// <summary>zstd (type 1; sets incompatible feature bit 3).</summary>
    Zstd = 1,
}
