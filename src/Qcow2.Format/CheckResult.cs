namespace Qcow2;

/// <summary>What <see cref="Qcow2Image.Check"/> may repair, as <c>qemu-img check -r</c>.</summary>
public enum CheckRepair
{
    /// <summary>Only report.</summary>
    None,
    /// <summary>Lower refcounts that are too high (leaked clusters); safe.</summary>
    Leaks,
    /// <summary>Also raise refcounts that are too low, rebuild broken refcount structures and fix COPIED flags.</summary>
    All,
}

/// <summary>Options of <see cref="Qcow2Image.Check"/>.</summary>
public sealed class CheckOptions
{
    /// <summary>What to repair; repairs need an image opened writable.</summary>
    public CheckRepair Repair { get; init; }

    /// <summary>Receives the fraction done, from 0 to 1, during long checks.</summary>
    public IProgress<double>? Progress { get; init; }

    /// <summary>Stops a long check; a check cancelled during a repair leaves the image consistent or as it was.</summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>The kind of a <see cref="CheckFinding"/>, after QEMU's classification.</summary>
public enum CheckFindingKind
{
    /// <summary>A cluster's refcount on disk is higher than its references: wasted space, no harm to data.</summary>
    Leak,
    /// <summary>A cluster's refcount on disk is lower than its references (but not zero).</summary>
    RefcountTooLow,
    /// <summary>A referenced cluster has refcount 0: the refcount structures need a rebuild.</summary>
    RefcountZero,
    /// <summary>The COPIED flag of an L1 or L2 entry disagrees with the refcount.</summary>
    CopiedFlag,
    /// <summary>Reserved bits are set in an L1, L2 or refcount-table entry.</summary>
    ReservedBits,
    /// <summary>A table, refcount block or data cluster offset is not cluster-aligned.</summary>
    Unaligned,
    /// <summary>A reference reaches one cluster or more past the end of the file.</summary>
    PastEndOfFile,
    /// <summary>A cluster is referenced more often than the refcount width can count.</summary>
    RefcountOverflow,
    /// <summary>A refcount block is outside the image or has a refcount other than 1.</summary>
    RefcountBlock,
    /// <summary>A snapshot table entry is broken.</summary>
    Snapshot,
    /// <summary>Other inconsistencies of the cluster mapping (subcluster bitmaps, compressed-cluster flags, bitmap tables).</summary>
    Mapping,
    /// <summary>The refcount of a cluster could not be read (counted as an internal check error).</summary>
    CheckError,
}

/// <summary>One problem found (and perhaps repaired) by a check.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Message">The line <c>qemu-img check</c> prints for it, e.g. <c>Leaked cluster 8 refcount=1 reference=0</c>.</param>
/// <param name="Cluster">The host cluster index, when the finding is about one cluster.</param>
/// <param name="OnDiskRefcount">The refcount stored in the image, for refcount findings.</param>
/// <param name="ComputedRefcount">The number of references counted by walking the metadata, for refcount findings.</param>
/// <param name="Repaired">Whether this pass repaired it.</param>
public sealed record CheckFinding(CheckFindingKind Kind, string Message, long? Cluster = null, ulong? OnDiskRefcount = null,
    ulong? ComputedRefcount = null, bool Repaired = false);

/// <summary>
/// The outcome of <see cref="Qcow2Image.Check"/>, with the numbers <c>qemu-img check</c> reports. After a repair that fixed
/// something, the image is checked a second time: the counts are that second pass's, <see cref="LeaksFixed"/> and
/// <see cref="CorruptionsFixed"/> are the repair pass's, and <see cref="RepairFindings"/> lists what the repair pass saw.
/// </summary>
public sealed class CheckResult
{
    internal CheckResult(CheckCounters counters, IReadOnlyList<CheckFinding> findings, IReadOnlyList<CheckFinding> repairFindings,
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
    public IReadOnlyList<CheckFinding> Findings { get; }

    /// <summary>What the repair pass found and did, when a repair ran and fixed something; empty otherwise.</summary>
    public IReadOnlyList<CheckFinding> RepairFindings { get; }

    /// <summary>Whether a repair ran and the image was checked a second time.</summary>
    public bool DoubleChecked => LeaksFixed > 0 || CorruptionsFixed > 0;

    /// <summary>The exit code <c>qemu-img check</c> gives: 0 clean, 1 check errors, 2 corruptions, 3 only leaks.</summary>
    public int ExitCode => FailureMessage is not null || CheckErrors > 0 ? 1 : Corruptions > 0 ? 2 : Leaks > 0 ? 3 : 0;
}

/// <summary>The counters of one pass, as QEMU's <c>BdrvCheckResult</c>.</summary>
internal struct CheckCounters
{
    public long CheckErrors;
    public long Corruptions;
    public long Leaks;
    public long CorruptionsFixed;
    public long LeaksFixed;
    public long ImageEndOffset;
    public long TotalClusters;
    public long AllocatedClusters;
    public long FragmentedClusters;
    public long CompressedClusters;
}
