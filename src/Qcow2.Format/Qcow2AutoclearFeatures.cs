namespace Qcow2;

/// <summary>The autoclear_features bits (spec §1.2): a program that writes the image clears the ones it does not know.</summary>
[Flags]
public enum Qcow2AutoclearFeatures : ulong
{
    /// <summary>No bit set.</summary>
    None = 0,

    /// <summary>Bit 0: the bitmaps extension is consistent with the image.</summary>
    Bitmaps = 1UL << 0,

    /// <summary>Bit 1: the external data file is a valid raw image by itself.</summary>
    RawExternalData = 1UL << 1,
}
