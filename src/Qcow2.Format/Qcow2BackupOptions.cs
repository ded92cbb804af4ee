namespace Qcow2;

/// <summary>How <see cref="Qcow2Backup.Run"/> backs up a disk.</summary>
public sealed class Qcow2BackupOptions
{
    /// <summary>
    /// The previous backup (a path, absolute or relative to the current directory): the new backup gets it as its backing
    /// file and holds only the ranges the bitmap marks dirty. Null makes a full backup.
    /// </summary>
    public string? PreviousBackup { get; init; }

    /// <summary>
    /// Clear the bitmap once the backup is complete and flushed, so that the next backup holds only later changes. A crash
    /// before that point leaves the bitmap as it was.
    /// </summary>
    public bool ClearBitmap { get; init; }

    /// <summary>Reports the fraction copied, from 0 to 1.</summary>
    public IProgress<double>? Progress { get; init; }

    /// <summary>Stops the copy between blocks; the target is then deleted and the bitmap left as it was.</summary>
    public CancellationToken CancellationToken { get; init; }
}
