using System.Buffers.Binary;
using System.Text;

namespace Qcow2.Tool;

/// <summary>
/// qemu-img's <c>format-specific.data.encrypt</c> object for a LUKS-encrypted image (QAPI <c>QCryptoBlockInfoLUKS</c>),
/// read from the LUKS1 header that the full-disk-encryption extension points at. Only public header fields are read;
/// no key material is touched.
/// </summary>
internal static class LuksInfo
{
    private const int HeaderSize = 208 + 8 * 48;
    private const uint SlotActive = 0x00AC71F3;

    /// <summary>The encrypt object, or just <c>{"format": "luks"}</c> if the header cannot be read.</summary>
    public static InfoObject Describe(string path, long headerOffset)
    {
        var header = new byte[HeaderSize];
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            file.Position = headerOffset;
            file.ReadExactly(header);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return new InfoObject().Add("format", "luks");
        }
        if (!IsMagic(header))
            return new InfoObject().Add("format", "luks");

        var cipherName = Text(header, 8, 32);
        var cipherModeSpec = Text(header, 40, 32);
        var hashSpec = Text(header, 72, 32);
        var payloadSectors = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(104));
        var keyBytes = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(108));
        var masterKeyIterations = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(164));
        var uuid = Text(header, 168, 40);

        // cipher_mode is "MODE-IVGEN[:IVHASH]", e.g. "xts-plain64" or "cbc-essiv:sha256".
        var dash = cipherModeSpec.IndexOf('-');
        var mode = dash < 0 ? cipherModeSpec : cipherModeSpec[..dash];
        var ivgen = dash < 0 ? "" : cipherModeSpec[(dash + 1)..];
        string? ivgenHash = null;
        var colon = ivgen.IndexOf(':');
        if (colon >= 0)
        {
            ivgenHash = ivgen[(colon + 1)..];
            ivgen = ivgen[..colon];
        }
        var cipherKeyBits = (long)keyBytes * 8 / (mode == "xts" ? 2 : 1);
        var cipherAlg = cipherName switch
        {
            "aes" or "serpent" or "twofish" => $"{cipherName}-{cipherKeyBits}",
            "cast5" => "cast5-128",
            _ => cipherName,
        };

        var info = new InfoObject()
            .Add("ivgen-alg", ivgen)
            .Add("hash-alg", hashSpec)
            .Add("cipher-alg", cipherAlg)
            .Add("uuid", uuid);
        if (ivgenHash is not null)
            info.Add("ivgen-hash-alg", ivgenHash);
        info.Add("format", "luks").Add("cipher-mode", mode);
        var slots = new InfoList();
        for (var i = 0; i < 8; i++)
        {
            var slot = header.AsSpan(208 + i * 48, 48);
            var active = BinaryPrimitives.ReadUInt32BigEndian(slot) == SlotActive;
            var entry = new InfoObject().Add("active", active);
            if (active)
                entry.Add("iters", (long)BinaryPrimitives.ReadUInt32BigEndian(slot[4..]));
            entry.Add("key-offset", (long)BinaryPrimitives.ReadUInt32BigEndian(slot[40..]) * 512);
            if (active)
                entry.Add("stripes", (long)BinaryPrimitives.ReadUInt32BigEndian(slot[44..]));
            slots.Add(entry);
        }
        info.Add("slots", slots)
            .Add("payload-offset", (long)payloadSectors * 512)
            .Add("master-key-iters", (long)masterKeyIterations);
        return info;
    }

    private static bool IsMagic(byte[] header) =>
        header[0] == (byte)'L' && header[1] == (byte)'U' && header[2] == (byte)'K' && header[3] == (byte)'S' && header[4] == 0xBA && header[5] == 0xBE;

    private static string Text(byte[] header, int offset, int length)
    {
        var span = header.AsSpan(offset, length);
        var nul = span.IndexOf((byte)0);
        return Encoding.ASCII.GetString(nul < 0 ? span : span[..nul]);
    }
}
