namespace Qcow2.Tool;

/// <summary>
/// qemu-img's <c>format-specific.data.encrypt</c> object for a LUKS-encrypted image (QAPI <c>QCryptoBlockInfoLUKS</c>),
/// from the LUKS1 header the library reads through the image.
/// </summary>
internal static class LuksInfo
{
    /// <summary>The encrypt object, or just <c>{"format": "luks"}</c> if the header cannot be read.</summary>
    public static InfoObject Describe(Qcow2Image image)
    {
        Qcow2LuksHeader? header;
        try
        {
            header = image.ReadLuksHeader();
        }
        catch (Exception e) when (e is Qcow2FormatException or IOException)
        {
            header = null;
        }
        if (header is null)
            return new InfoObject().Add("format", "luks");

        // cipher_mode is "MODE-IVGEN[:IVHASH]", e.g. "xts-plain64" or "cbc-essiv:sha256".
        var dash = header.CipherMode.IndexOf('-');
        var mode = dash < 0 ? header.CipherMode : header.CipherMode[..dash];
        var ivgen = dash < 0 ? "" : header.CipherMode[(dash + 1)..];
        string? ivgenHash = null;
        var colon = ivgen.IndexOf(':');
        if (colon >= 0)
        {
            ivgenHash = ivgen[(colon + 1)..];
            ivgen = ivgen[..colon];
        }
        var cipherKeyBits = (long)header.KeyBytes * 8 / (mode == "xts" ? 2 : 1);
        var cipherAlg = header.CipherName switch
        {
            "aes" or "serpent" or "twofish" => $"{header.CipherName}-{cipherKeyBits}",
            "cast5" => "cast5-128",
            var name => name,
        };

        var info = new InfoObject()
            .Add("ivgen-alg", ivgen)
            .Add("hash-alg", header.HashSpec)
            .Add("cipher-alg", cipherAlg)
            .Add("uuid", header.Uuid);
        if (ivgenHash is not null)
            info.Add("ivgen-hash-alg", ivgenHash);
        info.Add("format", "luks").Add("cipher-mode", mode);
        var slots = new InfoList();
        foreach (var slot in header.KeySlots)
        {
            var entry = new InfoObject().Add("active", slot.Active);
            if (slot.Active)
                entry.Add("iters", slot.Iterations);
            entry.Add("key-offset", slot.KeyMaterialOffset);
            if (slot.Active)
                entry.Add("stripes", slot.Stripes);
            slots.Add(entry);
        }
        info.Add("slots", slots)
            .Add("payload-offset", header.PayloadOffset)
            .Add("master-key-iters", header.MasterKeyIterations);
        return info;
    }
}
