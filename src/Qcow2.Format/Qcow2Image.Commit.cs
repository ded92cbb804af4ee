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
        EnsureCommittable();
        using (var target = OpenBackingForCommit(this, VirtualSize))
            CopyOwnDataInto(target, progress, cancellationToken);
        if (emptyImage)
        {
            lock (guestGate)
                Writer(0, VirtualSize).Discard(0, VirtualSize, full: true);
            Flush();
        }
    }

    /// <summary>
    /// Writes what this image and the images between it and <paramref name="baseFileName"/>, further down its backing chain, hold
    /// themselves into that base image, as <c>qemu-img commit -b BASE</c> does: the base shows what this image showed. The
    /// images in between are opened read-only, sharing no consistent read with other processes (as QEMU's commit job holds
    /// them: their guest data changes underneath), and the base writable with its lock (grown to this image's size when smaller);
    /// none of them is emptied or changed otherwise, this image included, so this image still reads as before while the images in
    /// between, which now read through the changed base, may not. A crash at any point leaves each base cluster old or new and
    /// every image consistent. <paramref name="baseFileName"/> matches a layer's backing file as QEMU matches it: resolved
    /// against the folder of each image in turn, and compared with that image's backing file after both are made canonical.
    /// </summary>
    /// <param name="baseFileName">The base image's file name, absolute or relative to the folder of the image that names it.</param>
    /// <param name="progress">Reports the fraction done, from 0 to 1.</param>
    /// <param name="cancellationToken">Stops between blocks.</param>
    /// <exception cref="ArgumentException">No image of the backing chain has <paramref name="baseFileName"/> as its backing file.</exception>
    /// <exception cref="InvalidOperationException">
    /// The image has no backing file, or was opened with its backing chain (open the image alone).
    /// </exception>
    /// <exception cref="Qcow2LockException">Another process uses an image in between (other than read-only with force-share), or the base.</exception>
    /// <exception cref="Qcow2FormatException">A mapping is corrupt, or an image of the chain cannot be opened (<see cref="OpenBackingFile"/>).</exception>
    /// <exception cref="IOException">An image of the chain cannot be read, or the base cannot be written.</exception>
    public void CommitInto(string baseFileName, IProgress<double>? progress = null, CancellationToken cancellationToken = default) =>
        CommitInto(baseFileName, overlay => OpenBackingForCommit(overlay, VirtualSize), progress, cancellationToken);

    /// <summary>
    /// <see cref="CommitInto(string, IProgress{double}?, CancellationToken)"/> with the base opened by <paramref name="openBase"/>,
    /// given the image whose backing file it is.
    /// </summary>
    internal void CommitInto(string baseFileName, Func<Qcow2Image, Qcow2VirtualDisk> openBase, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(baseFileName);
        EnsureCommittable();
        try
        {
            using var target = openBase(LinkLayersAbove(baseFileName));
            CopyOwnDataInto(target, progress, cancellationToken);
        }
        finally
        {
            // The images in between were opened for this call only; disposing the first closes the others.
            Qcow2Image? below;
            lock (guestGate)
            {
                (below, backingImage, guestDisk) = (backingImage, null, null);
            }
            below?.Dispose();
        }
    }

    private void EnsureCommittable()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (BackingFileName is null)
            throw new InvalidOperationException("Image does not have a backing file");
        if (backingImage is not null)
            throw new InvalidOperationException("The image was opened with its backing chain, which holds the backing file read-only; open the image alone to commit it.");
    }

    /// <summary>
    /// Opens, read-only, the images between this one and the base, each the backing image of the one above, and returns the one
    /// whose backing file is the base (this image when the base is its own backing file). The base itself stays closed: only
    /// ranges the images above it allocate are read.
    /// </summary>
    private Qcow2Image LinkLayersAbove(string baseFileName)
    {
        var visited = new HashSet<string>(StringComparer.Ordinal);
        if (FileName is not null)
            visited.Add(FileName);
        var layer = this;
        while (!NamesAsBackingFile(layer, baseFileName))
        {
            if (layer.BackingFileName is not { } name || layer.BackingFormat is { } format && format != "qcow2")
                throw new ArgumentException($"Did not find '{baseFileName}' in the backing chain of '{FileName}'", nameof(baseFileName));
            var path = Path.GetFullPath(ResolveBackingFileName(name, layer.BackingFormat, layer.FileName));
            if (!visited.Add(path))
                throw new Qcow2FormatException($"The backing chain loops back to '{path}'", "BackingFileName", name);
            var below = Open(path, new Qcow2OpenOptions { OpenDataFile = true, L2CacheSize = l2CacheBytes, UnderCommit = true });
            lock (layer.guestGate)
            {
                layer.backingImage = below;
                layer.guestDisk = null;
            }
            layer = below;
        }
        return layer;
    }

    /// <summary>
    /// Whether <paramref name="name"/> is <paramref name="layer"/>'s backing file as QEMU's <c>bdrv_find_backing_image</c> decides:
    /// names with a protocol prefix are compared as written; file names are resolved against the layer's folder and compared
    /// canonical, and a file that does not exist matches nothing.
    /// </summary>
    private static bool NamesAsBackingFile(Qcow2Image layer, string name)
    {
        if (layer.BackingFileName is not { } backing)
            return false;
        if (ProtocolPrefix().IsMatch(name) || ProtocolPrefix().IsMatch(backing))
            return name == backing;
        var folder = layer.FileName is null ? "" : Path.GetDirectoryName(layer.FileName) ?? "";
        return CanonicalPath.Of(Path.Combine(folder, name)) is { } wanted && CanonicalPath.Of(Path.Combine(folder, backing)) == wanted;
    }

    /// <summary>
    /// Copies every range this image (with the backing images linked to it) allocates into <paramref name="target"/>, then
    /// flushes it. Data is copied as data (no zero detection), zero clusters as zeros that free the target's clusters, as QEMU's
    /// commit job does.
    /// </summary>
    private void CopyOwnDataInto(Qcow2VirtualDisk target, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var own = GetAllocation(0, VirtualSize).Where(e => e.Kind != Qcow2ExtentKind.Unallocated).Select(e => new Qcow2GuestRange(e.Start, e.Length)).ToList();
        new DiskCopier(Qcow2VirtualDisk.FromImage(this), target, new Qcow2CopyOptions { SparseSize = 0, Progress = progress, CancellationToken = cancellationToken },
            unmapZeros: true).Copy(own);
        target.Flush();
    }

    /// <summary>
    /// The backing file of <paramref name="overlay"/>, opened writable with its lock and grown to <paramref name="size"/> when
    /// smaller: a qcow2 image, or a raw file when the overlay says its backing format is raw (the caller asked for the commit,
    /// so the named file is opened; the plain-path rule still holds). The disk owns what it opened.
    /// </summary>
    private static Qcow2VirtualDisk OpenBackingForCommit(Qcow2Image overlay, long size)
    {
        if (overlay.BackingFormat != "raw")
        {
            var backing = overlay.OpenBackingFile(new Qcow2OpenOptions { Writable = true, OpenBackingChain = true, OpenDataFile = true })!;
            try
            {
                if (backing.VirtualSize < size)
                    backing.Resize(size);
                return Qcow2VirtualDisk.Owning(backing);
            }
            catch
            {
                backing.Dispose();
                throw;
            }
        }
        var path = ResolveBackingFileName(overlay.BackingFileName!, null, overlay.FileName);
        var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.RandomAccess);
        try
        {
            var (held, shared) = ImageLock.For(writable: true, forceShare: false);
            ImageLock.Acquire(file.SafeFileHandle, path, held, shared);
            if (file.Length < size)
                file.SetLength(size);
            return Qcow2VirtualDisk.Owning(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
