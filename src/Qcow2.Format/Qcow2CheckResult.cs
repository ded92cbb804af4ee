namespace Qcow2;

/// <summary>
/// The outcome of <see cref="Qcow2Image.Check"/>, with the numbers <c>qemu-img check</c> reports. After a repair that fixed
/// something, the image is checked a second time: the counts are that second pass's, <see cref="LeaksFixed"/> and
/// <see cref="CorruptionsFixed"/> are the repair pass's, and <see cref="RepairFindings"/> lists what the repair pass saw.
/// </summary>
public sealed class Qcow2CheckResult
{
    internal Qcow2CheckResult(CheckCounters counters, IReadOnlyList<Qcow2CheckFinding> findings, IReadOnlyList<Qcow2CheckFinding> repairFindings,
        long leaksFixed, long corruptionsFixed, string? failureMessage)
    {
        FailureMessage = failureMessage;
        CheckErrors = counters.CheckErrors;
        Corruptions = counters.Corruptions;
        Leaks = counters.Leaks;
        ImageEndOffset = counters.ImageEndOffset;
        TotalClusters = counters.TotalClusters;
        AllocatedClusters = counters.AllocatedClusters;
        FragmentedClusters = counters.FragmentedClusters;
        CompressedClusters = counters.CompressedClusters;
        Findings = findings;
        RepairFindings = repairFindings;
        LeaksFixed = leaksFixed;
        CorruptionsFixed = corruptionsFixed;
    }

    /// <summary>
    /// Why the check could not be completed (QEMU prints "Check failed: …" and no summary), or null. For example a repair
    /// limited to leaks that finds refcounts needing a rebuild, or a bitmap table that cannot be loaded.
    /// </summary>
    public string? FailureMessage { get; }

    /// <summary>Internal errors during the check (for example refcounts that could not be read).</summary>
    public long CheckErrors { get; }

    /// <summary>Corruptions that remain.</summary>
    public long Corruptions { get; }

    /// <summary>Leaked clusters that remain.</summary>
    public long Leaks { get; }

    /// <summary>Corruptions the repair fixed.</summary>
    public long CorruptionsFixed { get; }

    /// <summary>Leaks the repair fixed.</summary>
    public long LeaksFixed { get; }

    /// <summary>The end of the last cluster in use: (highest cluster with a refcount or a reference + 1) × cluster size.</summary>
    public long ImageEndOffset { get; }

    /// <summary>Guest clusters of the virtual disk.</summary>
    public long TotalClusters { get; }

    /// <summary>Guest clusters that are allocated in the active L1 (normal, preallocated-zero and compressed).</summary>
    public long AllocatedClusters { get; }

    /// <summary>Allocated clusters not contiguous with the previous one of the same L2 table, plus every compressed one.</summary>
    public long FragmentedClusters { get; }

    /// <summary>Compressed guest clusters.</summary>
    public long CompressedClusters { get; }

    /// <summary>The problems of the final pass, in the order QEMU reports them.</summary>
    public IReadOnlyList<Qcow2CheckFinding> Findings { get; }

    /// <summary>What the repair pass found and did, when a repair ran and fixed something; empty otherwise.</summary>
    public IReadOnlyList<Qcow2CheckFinding> RepairFindings { get; }

    /// <summary>Whether a repair ran and the image was checked a second time.</summary>
    public bool DoubleChecked => LeaksFixed > 0 || CorruptionsFixed > 0;
}
