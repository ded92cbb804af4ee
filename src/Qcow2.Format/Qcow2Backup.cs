namespace Qcow2;

/// <summary>
/// Offline incremental backup from a persistent dirty bitmap: each backup is a qcow2 image holding the ranges the bitmap
/// marks dirty, backed by the previous backup, so that the backups form a standard backing chain and <c>qemu-img convert</c>
/// of the newest one restores the disk as it was then.
/// </summary>
public static class Qcow2Backup
{
    /// <summary>
    /// Copies into <paramref name="target"/> (writable, the size of the source, and backed by the previous backup with its chain
    /// opened, unless <paramref name="full"/>) every range the bitmap marks dirty, or the whole disk when
    /// <paramref name="full"/>; ranges that read as zeros become zero clusters, so they hide older data. The target is
    /// flushed. The source is only read.
    /// </summary>
    /// <exception cref="Qcow2FormatException">No such bitmap in the source, or it is in use (inconsistent).</exception>
    /// <exception cref="ArgumentException">The target is read-only or smaller than the source.</exception>
    public static Qcow2BackupResult Copy(Qcow2Image source, string bitmapName, Qcow2Image target, bool full,
        IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        // The bitmap is checked even for a full backup: the chain starts from it.
        var dirty = source.GetDirtyRanges(bitmapName).ToList();
        if (full)
            dirty = [new Qcow2GuestRange(0, source.VirtualSize)];
        var (from, to) = (Qcow2VirtualDisk.FromImage(source), Qcow2VirtualDisk.FromImage(target));
        if (!to.IsWritable)
            throw new ArgumentException("The backup image is read-only.", nameof(target));
        if (to.Length < from.Length)
            throw new ArgumentException($"The backup image ({to.Length} bytes) is smaller than the disk ({from.Length} bytes).", nameof(target));
        new DiskCopier(from, to, new Qcow2CopyOptions { Progress = progress, CancellationToken = cancellationToken }).Copy(dirty);
        to.Flush();
        return new Qcow2BackupResult(full, dirty.Count, dirty.Sum(r => r.Length));
    }

    /// <summary>
    /// Backs up the disk at <paramref name="diskPath"/> into a new image at <paramref name="targetPath"/>: a full backup, or,
    /// with <see cref="Qcow2BackupOptions.PreviousBackup"/>, the ranges the bitmap marks dirty over it. The disk is opened
    /// read-only (and its backing chain, to read what it shows). The backup is written under a temporary name and renamed when
    /// complete and flushed; only then, with <see cref="Qcow2BackupOptions.ClearBitmap"/>, is the disk reopened writable and
    /// the bitmap cleared. A crash at any point leaves the bitmap with every change since the last cleared backup.
    /// </summary>
    /// <exception cref="Qcow2FormatException">The disk or the previous backup is not a usable image, or the bitmap is missing or in use.</exception>
    /// <exception cref="IOException">A file cannot be read or written.</exception>
    public static Qcow2BackupResult Run(string diskPath, string bitmapName, string targetPath, Qcow2BackupOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(diskPath);
        ArgumentNullException.ThrowIfNull(bitmapName);
        ArgumentNullException.ThrowIfNull(targetPath);
        options ??= new Qcow2BackupOptions();
        var fullTarget = Path.GetFullPath(targetPath);
        var partial = fullTarget + ".part";
        Qcow2BackupResult result;
        try
        {
            using (var source = Qcow2Image.Open(diskPath, new Qcow2OpenOptions { OpenBackingChain = true, OpenDataFile = true }))
            {
                _ = source.GetDirtyRanges(bitmapName).Any(); // a missing or inconsistent bitmap fails before anything is created
                var createOptions = new Qcow2CreateOptions
                {
                    ClusterSize = source.ClusterSize,
                    CompressionType = source.CompressionType,
                    // Stored relative to the backup's folder, so that a folder of backups can be moved as a whole.
                    BackingFile = options.PreviousBackup is { } previous
                        ? Path.GetRelativePath(Path.GetDirectoryName(fullTarget)!, Path.GetFullPath(previous))
                        : null,
                    BackingFormat = options.PreviousBackup is null ? null : "qcow2",
                };
                Qcow2Image.Create(partial, source.VirtualSize, createOptions).Dispose();
                using var target = Qcow2Image.Open(partial, new Qcow2OpenOptions { Writable = true, OpenBackingChain = true });
                result = Copy(source, bitmapName, target, full: options.PreviousBackup is null, options.Progress, options.CancellationToken);
            }
            File.Move(partial, fullTarget, overwrite: true);
            DirectoryFlush.Flush(Path.GetDirectoryName(fullTarget)!);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
        if (options.ClearBitmap)
        {
            using var disk = Qcow2Image.Open(diskPath, new Qcow2OpenOptions { Writable = true });
            disk.ClearBitmap(bitmapName);
        }
        return result;
    }
}
