namespace Qcow2;

/// <summary>One problem found (and perhaps repaired) by a check.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Message">The line <c>qemu-img check</c> prints for it, e.g. <c>Leaked cluster 8 refcount=1 reference=0</c>.</param>
/// <param name="Cluster">The host cluster index, when the finding is about one cluster.</param>
/// <param name="OnDiskRefcount">The refcount stored in the image, for refcount findings.</param>
/// <param name="ComputedRefcount">The number of references counted by walking the metadata, for refcount findings.</param>
/// <param name="Repaired">Whether this pass repaired it.</param>
public sealed record Qcow2CheckFinding(Qcow2CheckFindingKind Kind, string Message, long? Cluster = null, ulong? OnDiskRefcount = null,
    ulong? ComputedRefcount = null, bool Repaired = false);
