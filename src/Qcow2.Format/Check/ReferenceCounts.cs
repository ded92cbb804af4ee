namespace Qcow2;

/// <summary>What <see cref="ReferenceCountPass"/> found.</summary>
/// <param name="Computed">The references counted for every cluster.</param>
/// <param name="ActiveL1">The active L1 table as the walk read it (empty when the header says it has no entries).</param>
/// <param name="Copied">The COPIED flags of the active L2 entries, for <see cref="CopiedFlagPass"/>.</param>
/// <param name="NeedsRebuild">Whether a refcount table entry is broken beyond a comparison's repair.</param>
/// <param name="ClaimedEnd">The end of the furthest range the metadata claims one cluster or more past the end of the file, where QEMU counts nothing.</param>
/// <param name="Counters">The corruptions, repairs and allocation statistics of the walk.</param>
internal sealed record ReferenceCounts(InMemoryRefcounts Computed, ulong[] ActiveL1, CopiedFlagSummary Copied, bool NeedsRebuild, long ClaimedEnd, CheckCounters Counters);
