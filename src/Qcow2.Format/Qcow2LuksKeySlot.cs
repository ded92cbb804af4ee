namespace Qcow2;

/// <summary>A LUKS1 key slot.</summary>
/// <param name="Active">Whether the slot holds a key.</param>
/// <param name="Iterations">PBKDF2 iterations of the slot's passphrase.</param>
/// <param name="KeyMaterialOffset">Where the slot's key material starts, in bytes from the header.</param>
/// <param name="Stripes">Anti-forensic stripes of the key material.</param>
public sealed record Qcow2LuksKeySlot(bool Active, long Iterations, long KeyMaterialOffset, long Stripes);
