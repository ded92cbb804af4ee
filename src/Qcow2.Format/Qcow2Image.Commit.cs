namespace Qcow2;

public sealed partial class Qcow2Image
{
    /// <summary>
    /// Writes the data this image holds itself (data and zero clusters, not what its backing file shows) into its backing file,
    /// then empties this image so that the backing file shows through, as <c>qemu-img commit</c> does. The backing file is
    /// opened writable here, with its lock (refused while another process uses it), and grown when it is smaller than this
    /// image. It is flushed before this image is emptied, so a crash leaves the guest data as it was in both images. A backing
    /// file whose format the image names as raw is written as a raw file (zero clusters become holes where the file system allows).
    /// </summary>
    /// <param name="emptyImage">Empty this image afterwards (false is <c>qemu-img commit -d</c>).</param>
    /// <param name="progress">Reports the fraction done, from 0 to 1.</param>
    /// <param name="cancellationToken">Stops between blocks, before this image is emptied.</param>
    /// <exception cref="InvalidOperationException">
    /// The image is read-only, has no backing file, or was opened with its backing chain (which holds the backing file
    /// read-only: open the image alone).
    /// </exception>
    /// <exception cref="Qcow2LockException">Another process uses the backing file.</exception>
    /// <exception cref="Qcow2FormatException">A mapping is corrupt, or the backing file cannot be opened (<see cref="OpenBackingFile"/>).</exception>
    /// <exception cref="IOException">The backing file cannot be read or written.</exception>
    public void Commit(bool emptyImage = true, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        EnsureWritable();
        if (BackingFileName is null)
            throw new InvalidOperationException("Image does not have a backing file");
        if (backingImage is not null)
            throw new InvalidOperationException("The image was opened with its backing chain, which holds the backing file read-only; open the image alone to commit it.");
        var own = GetAllocation(0, VirtualSize).Where(e => e.Kind != Qcow2ExtentKind.Unallocated).Select(e => new Qcow2GuestRange(e.Start, e.Length)).ToList();
        using (var target = OpenBackingForCommit())
        {
            // Data is copied as data (no zero detection), zero clusters as zeros that free the backing file's clusters, as
            // QEMU's commit job does.
            new DiskCopier(Qcow2VirtualDisk.FromImage(this), target, new Qcow2CopyOptions { SparseSize = 0, Progress = progress, CancellationToken = cancellationToken },
                unmapZeros: true).Copy(own);
            target.Flush();
        }
        if (emptyImage)
        {
            lock (guestGate)
                Writer(0, VirtualSize).Discard(0, VirtualSize, full: true);
            Flush();
        }
    }

    /// <summary>
    /// The backing file, opened writable with its lock and grown to this image's size when smaller: a qcow2 image, or a raw file
    /// when the image says its backing format is raw (the caller asked for the commit, so the named file is opened; the
    /// plain-path rule still holds). The disk owns what it opened.
    /// </summary>
    private Qcow2VirtualDisk OpenBackingForCommit()
    {
        if (BackingFormat != "raw")
        {
            var backing = OpenBackingFile(new Qcow2OpenOptions { Writable = true, OpenBackingChain = true, OpenDataFile = true })!;
            try
            {
                if (backing.VirtualSize < VirtualSize)
                    backing.Resize(VirtualSize);
                return Qcow2VirtualDisk.Owning(backing);
            }
            catch
            {
                backing.Dispose();
                throw;
            }
        }
        var path = ResolveBackingFileName(BackingFileName!, null, FileName);
        var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.RandomAccess);
        try
        {
            var (held, shared) = ImageLock.For(writable: true, forceShare: false);
            ImageLock.Acquire(file.SafeFileHandle, path, held, shared);
            if (file.Length < VirtualSize)
                file.SetLength(VirtualSize);
            return Qcow2VirtualDisk.Owning(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
