namespace Qcow2;

/// <summary>
/// A snapshot validated for apply (<see cref="SnapshotOperations.PrepareApply"/>): its L1 table and the clusters it reaches,
/// one entry per reference.
/// </summary>
internal sealed record PreparedSnapshotApply(Qcow2Snapshot Snapshot, ulong[] L1, List<long> Added);
