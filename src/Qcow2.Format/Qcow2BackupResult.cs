namespace Qcow2;

/// <summary>What <see cref="Qcow2Backup"/> copied.</summary>
/// <param name="Full">Whether the whole disk was copied (no previous backup).</param>
/// <param name="Ranges">The number of guest ranges copied.</param>
/// <param name="Bytes">The guest bytes those ranges cover.</param>
public sealed record Qcow2BackupResult(bool Full, int Ranges, long Bytes);
