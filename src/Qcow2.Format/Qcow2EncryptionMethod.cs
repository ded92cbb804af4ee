namespace Qcow2;

/// <summary>How guest data is encrypted (header crypt_method).</summary>
public enum Qcow2EncryptionMethod
{
    /// <summary>Not encrypted.</summary>
    None = 0,
    /// <summary>The legacy AES-CBC scheme.</summary>
    Aes = 1,
    /// <summary>LUKS; the LUKS header is located by a <see cref="Qcow2FullDiskEncryptionExtension"/>.</summary>
    Luks = 2,
}
