using System.Text;

namespace Qcow2;

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
