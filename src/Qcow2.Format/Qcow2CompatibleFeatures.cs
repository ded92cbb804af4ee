namespace Qcow2;

/// <summary>The compatible_features bits (spec §1.2): a program may ignore the ones it does not know.</summary>
[Flags]
public enum Qcow2CompatibleFeatures : ulong
{
    /// <summary>No bit set.</summary>
    None = 0,

    /// <summary>Bit 0: refcount updates may be postponed; the dirty bit is set while they are.</summary>
    LazyRefcounts = 1UL << 0,
}
