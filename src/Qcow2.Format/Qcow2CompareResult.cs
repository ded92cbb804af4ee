namespace Qcow2;

/// <summary>How two disks compared (<see cref="Qcow2VirtualDisk.Compare"/>).</summary>
public enum Qcow2CompareOutcome
{
    /// <summary>The disks read the same (a larger disk's extra part reads as zeros).</summary>
    Identical,
    /// <summary>A byte differs, at <see cref="Qcow2CompareResult.Offset"/>.</summary>
    ContentMismatch,
    /// <summary>Strict mode: the allocation differs at <see cref="Qcow2CompareResult.Offset"/>.</summary>
    AllocationMismatch,
    /// <summary>Strict mode: the disks have different sizes.</summary>
    SizeMismatch,
}

/// <summary>The result of <see cref="Qcow2VirtualDisk.Compare"/>.</summary>
/// <param name="Outcome">Identical, or what differs first.</param>
/// <param name="Offset">The first guest byte that differs, for a content or allocation mismatch.</param>
/// <param name="SizesDiffer">Whether the disks have different sizes.</param>
public sealed record Qcow2CompareResult(Qcow2CompareOutcome Outcome, long? Offset, bool SizesDiffer);
