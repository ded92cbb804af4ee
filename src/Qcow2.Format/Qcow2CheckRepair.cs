namespace Qcow2;

/// <summary>What <see cref="Qcow2Image.Check"/> may repair, as <c>qemu-img check -r</c>.</summary>
public enum Qcow2CheckRepair
{
    /// <summary>Only report.</summary>
    None,
    /// <summary>Lower refcounts that are too high (leaked clusters); safe.</summary>
    Leaks,
    /// <summary>Also raise refcounts that are too low, rebuild broken refcount structures and fix COPIED flags.</summary>
    All,
}
