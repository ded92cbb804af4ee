namespace Qcow2;

/// <summary>What the LUKS1 header of an encrypted image says, as <c>qemu-img info</c> shows it. No key material is read.</summary>
/// <param name="CipherName">For example <c>aes</c>.</param>
/// <param name="CipherMode">For example <c>xts-plain64</c> or <c>cbc-essiv:sha256</c>.</param>
/// <param name="HashSpec">For example <c>sha256</c>.</param>
/// <param name="PayloadOffset">Where the encrypted payload starts, in bytes from the header.</param>
/// <param name="KeyBytes">The master key length in bytes.</param>
/// <param name="MasterKeyIterations">PBKDF2 iterations of the master key digest.</param>
/// <param name="Uuid">The header's UUID.</param>
/// <param name="KeySlots">The eight key slots.</param>
public sealed record Qcow2LuksHeader(string CipherName, string CipherMode, string HashSpec, long PayloadOffset, int KeyBytes,
    long MasterKeyIterations, string Uuid, IReadOnlyList<Qcow2LuksKeySlot> KeySlots);
