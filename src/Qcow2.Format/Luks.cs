using System.Text;

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

/// <summary>A LUKS1 key slot.</summary>
/// <param name="Active">Whether the slot holds a key.</param>
/// <param name="Iterations">PBKDF2 iterations of the slot's passphrase.</param>
/// <param name="KeyMaterialOffset">Where the slot's key material starts, in bytes from the header.</param>
/// <param name="Stripes">Anti-forensic stripes of the key material.</param>
public sealed record Qcow2LuksKeySlot(bool Active, long Iterations, long KeyMaterialOffset, long Stripes);

public sealed partial class Qcow2Image
{
    /// <summary>
    /// Reads the LUKS1 header the full disk encryption extension points at, or returns null when the image is not
    /// LUKS-encrypted or the header is not a LUKS1 header.
    /// </summary>
    public Qcow2LuksHeader? ReadLuksHeader()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (image.FullDiskEncryption is not { } pointer || EncryptionMethod != Qcow2EncryptionMethod.Luks)
            return null;
        var offset = (long)pointer.Offset;
        var bytes = new byte[LuksHeader.Size + LuksHeader.KeySlotCount * LuksKeySlotEntry.Size];
        storage.Read(offset, bytes);
        if (!LuksHeader.TryRead(bytes, offset, out var header, out _))
            return null;
        var slots = new Qcow2LuksKeySlot[LuksHeader.KeySlotCount];
        for (var i = 0; i < slots.Length; i++)
        {
            var slot = LuksKeySlotEntry.ReadUnchecked(bytes.AsSpan(LuksHeader.Size + i * LuksKeySlotEntry.Size));
            slots[i] = new Qcow2LuksKeySlot(slot.Active == LuksKeySlotEntry.ActiveMarker, slot.Iterations, slot.KeyMaterialOffset * 512L, slot.Stripes);
        }
        return new Qcow2LuksHeader(Text(header.CipherName), Text(header.CipherMode), Text(header.HashSpec), header.PayloadOffset * 512L,
            (int)header.KeyBytes, header.MasterKeyIterations, Text(header.Uuid), slots);
    }

    /// <summary>A NUL-padded ASCII field.</summary>
    private static string Text(byte[] field)
    {
        var nul = Array.IndexOf(field, (byte)0);
        return Encoding.ASCII.GetString(field, 0, nul < 0 ? field.Length : nul);
    }
}
