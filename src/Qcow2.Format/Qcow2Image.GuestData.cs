using System.Globalization;

namespace Qcow2;

public sealed partial class Qcow2Image
{
    private readonly Lock guestGate = new();
    private Qcow2Image? backingImage;
    private IImageStorage? dataFileStorage;
    private long l2CacheBytes = new Qcow2OpenOptions().L2CacheSize;
    private volatile GuestDisk? guestDisk;
    private GuestWriter? guestWriter;
    private bool guestChangesStarted;
    private bool setLazyDirtyBit;
    private List<string>? trackedBitmaps;
    private bool storingBitmaps;
    private readonly List<Qcow2GuestRange> changedRanges = [];

    /// <summary>The opened backing image (see <see cref="Qcow2OpenOptions.OpenBackingChain"/>), or null.</summary>
    public Qcow2Image? BackingImage => backingImage;

    /// <summary>
    /// Reads guest bytes at <paramref name="offset"/> of the virtual disk, as QEMU would return them: data, compressed data
    /// (zlib or zstd), zero clusters, subclusters, the external data file, and for unallocated ranges the backing chain (or
    /// zeros when the image has no backing file). Safe to call from several threads at once.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the virtual disk.</exception>
    /// <exception cref="InvalidOperationException">
    /// The range needs a backing file or external data file that was not opened (<see cref="Qcow2OpenOptions.OpenBackingChain"/>,
    /// <see cref="Qcow2OpenOptions.OpenDataFile"/>).
    /// </exception>
    /// <exception cref="NotSupportedException">The image is encrypted.</exception>
    /// <exception cref="Qcow2FormatException">The mapping of the range is corrupt (QEMU refuses the same I/O).</exception>
    public void Read(long offset, Span<byte> buffer)
    {
        CheckGuestRange(offset, buffer.Length);
        Disk().Read(offset, buffer);
    }

    /// <summary>The asynchronous <see cref="Read"/>: data clusters are read with <see cref="RandomAccess"/> on the open file.</summary>
    /// <inheritdoc cref="Read" path="/exception"/>
    public ValueTask ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckGuestRange(offset, buffer.Length);
        return Disk().ReadAsync(offset, buffer, cancellationToken);
    }

    /// <summary>
    /// The allocation of [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>), in order, as
    /// extents of data, zeros and unallocated ranges; ranges the opened backing chain holds are reported with their depth.
    /// Neighbouring ranges with the same facts (and contiguous host offsets) are merged, as <c>qemu-img map</c> does.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the virtual disk.</exception>
    /// <exception cref="Qcow2FormatException">The mapping is corrupt.</exception>
    public IEnumerable<Qcow2Extent> GetAllocation(long offset, long length)
    {
        CheckGuestRange(offset, length);
        var disk = Disk();
        return Merge(disk.GetAllocation(offset, length, 0));

        static IEnumerable<Qcow2Extent> Merge(IEnumerable<Qcow2Extent> extents)
        {
            Qcow2Extent? pending = null;
            foreach (var extent in extents)
            {
                if (pending is { } p && p.End == extent.Start && p.Kind == extent.Kind && p.Compressed == extent.Compressed && p.Depth == extent.Depth
                    && (p.HostOffset is null ? extent.HostOffset is null : p.HostOffset + p.Length == extent.HostOffset))
                {
                    pending = p with { Length = p.Length + extent.Length };
                    continue;
                }
                if (pending is { } done)
                    yield return done;
                pending = extent;
            }
            if (pending is { } last)
                yield return last;
        }
    }

    /// <summary>
    /// Writes guest bytes at <paramref name="offset"/>, as QEMU writes them: in place where the cluster is this image's alone,
    /// otherwise into a new cluster with the rest of the cluster copied from what the guest saw (the backing chain, zeros,
    /// compressed or snapshot-shared data). The order of writes lets a crash leave at most leaked clusters. Enabled persistent
    /// dirty bitmaps record the range (see <see cref="Bitmaps"/>). Writes are serialized; they must not run concurrently with
    /// reads of the same range.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the virtual disk.</exception>
    /// <exception cref="InvalidOperationException">The image is read-only, or a needed backing or data file was not opened.</exception>
    /// <exception cref="NotSupportedException">The image is encrypted.</exception>
    /// <exception cref="Qcow2FormatException">The mapping is corrupt, or a write would land on metadata (nothing is written then).</exception>
    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        CheckGuestRange(offset, data.Length);
        if (data.Length == 0)
            return;
        lock (guestGate)
            Writer(offset, data.Length).Write(offset, data);
    }

    /// <summary>
    /// <see cref="Write(long, ReadOnlySpan{byte})"/> of several ranges (not overlapping) at once: the clusters they allocate are
    /// allocated together and each L2 table is written once (<see cref="GuestWriter.WriteRanges"/>).
    /// </summary>
    internal void WriteRanges(IReadOnlyList<(long Offset, ReadOnlyMemory<byte> Data)> ranges)
    {
        foreach (var (offset, data) in ranges)
            CheckGuestRange(offset, data.Length);
        lock (guestGate)
        {
            GuestWriter? writer = null;
            foreach (var (offset, data) in ranges)
                writer = Writer(offset, data.Length);
            writer?.WriteRanges(ranges);
        }
    }

    /// <summary>
    /// <see cref="Write"/> as a task. The work is done synchronously, metadata and data alike: an allocating write must order
    /// its writes, and an in-place one is a single positional write.
    /// </summary>
    /// <inheritdoc cref="Write" path="/exception"/>
    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(offset, data.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Stores one whole cluster (at a cluster-aligned <paramref name="offset"/>) compressed with the image's compression type
    /// (<see cref="ClusterCompressor"/>); false, writing nothing, when the cluster holds data already.
    /// </summary>
    internal bool WriteCompressed(long offset, ReadOnlySpan<byte> compressed)
    {
        CheckGuestRange(offset, 1);
        lock (guestGate)
            return Writer(offset, Math.Min(ClusterSize, VirtualSize - offset)).WriteCompressed(offset, compressed);
    }

    /// <summary>
    /// Makes a range read as zeros, as <c>qemu-io -c 'write -z'</c> does: whole (sub)clusters become zero clusters without
    /// data being written (a preallocated host cluster stays allocated; a compressed one is freed), partial ones at the ends
    /// get zeros written. Version 2 images have no zero clusters: zeros are written.
    /// </summary>
    /// <inheritdoc cref="Write" path="/exception"/>
    public void WriteZeroes(long offset, long length) => WriteZeroes(offset, length, unmap: false);

    /// <summary><see cref="WriteZeroes(long, long)"/>; with <paramref name="unmap"/> whole clusters also free their host cluster.</summary>
    internal void WriteZeroes(long offset, long length, bool unmap)
    {
        CheckGuestRange(offset, length);
        if (length == 0)
            return;
        lock (guestGate)
            Writer(offset, length).WriteZeroes(offset, length, unmap);
    }

    /// <summary>
    /// Discards a range, as <c>qemu-io -c discard</c> does: every whole cluster in it (and a partial last cluster of the
    /// disk) releases its host cluster and reads as zeros afterwards (on version 2 images with a backing file it shows the
    /// backing file's data again, as in QEMU); partial clusters at either end are left as they are.
    /// </summary>
    /// <inheritdoc cref="Write" path="/exception"/>
    public void Discard(long offset, long length)
    {
        CheckGuestRange(offset, length);
        if (length == 0)
            return;
        lock (guestGate)
            Writer(offset, length).Discard(offset, length);
    }

    /// <summary>
    /// Makes every write so far durable (the image file and an external data file). Persistent bitmaps are stored, and the
    /// lazy-refcounts dirty bit cleared, when the image is disposed, as QEMU does at close.
    /// </summary>
    /// <exception cref="InvalidOperationException">The image is read-only.</exception>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!storage.CanWrite)
            throw new InvalidOperationException("The image is open read-only.");
        lock (guestGate)
        {
            storage.Flush();
            dataFileStorage?.Flush();
        }
    }

    /// <summary>
    /// A seekable stream over the virtual disk: <see cref="Stream.Length"/> is <see cref="VirtualSize"/>, writes go through
    /// <see cref="Write"/> when the image is writable. The stream does not own the image.
    /// </summary>
    public Stream OpenDiskStream()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return new Qcow2DiskStream(this);
    }

    internal IEnumerable<Qcow2Extent> GetAllocationAtDepth(long offset, long length, int depth) => Disk().GetAllocation(offset, length, depth);

    private void CheckGuestRange(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset > VirtualSize || length > VirtualSize - offset)
            throw new ArgumentOutOfRangeException(nameof(length), string.Create(CultureInfo.InvariantCulture,
                $"The range of {length} bytes at {offset} reaches past the virtual disk of {VirtualSize} bytes."));
    }

    private GuestDisk Disk()
    {
        if (guestDisk is { } disk)
            return disk;
        lock (guestGate)
        {
            if (EncryptionMethod != Qcow2EncryptionMethod.None)
                throw new NotSupportedException($"The guest data of an encrypted image ({EncryptionMethod}) cannot be read or written: decryption is not supported.");
            return guestDisk ??= new GuestDisk(storage, image, dataFileStorage, backingImage, l2CacheBytes);
        }
    }

    /// <summary>
    /// The writer, after the first change of this open has done what QEMU does before its first write: enabled persistent
    /// bitmaps are marked in use (so that a crash leaves them visibly stale), and with lazy refcounts the dirty bit is set.
    /// The range is recorded for the bitmaps before it is changed.
    /// </summary>
    private GuestWriter Writer(long offset, long length)
    {
        if (!storage.CanWrite)
            throw new InvalidOperationException("The image is open read-only.");
        var disk = Disk();
        if (!guestChangesStarted)
        {
            var enabled = Bitmaps.Where(b => b.Enabled && !b.InUse).Select(b => b.Name).ToList();
            if (enabled.Count > 0)
            {
                new BitmapDirectoryWriter(this).Write(Bitmaps
                    .Select(b => enabled.Contains(b.Name) ? BitmapDefinition.Keep(b, b.Entry.Flags | BitmapDirectoryEntry.InUseFlag) : BitmapDefinition.Keep(b))
                    .ToList());
                trackedBitmaps = enabled;
                disk = Disk();
            }
            if (LazyRefcounts && !IsDirty)
            {
                HeaderFieldUpdates.WriteIncompatibleFeatures(storage, image, image.Header.IncompatibleFeatures | Features.Dirty);
                setLazyDirtyBit = true;
            }
            guestChangesStarted = true;
        }
        if (trackedBitmaps is not null)
        {
            if (changedRanges.Count > 0 && changedRanges[^1].End == offset)
                changedRanges[^1] = changedRanges[^1] with { Length = changedRanges[^1].Length + length };
            else
                changedRanges.Add(new Qcow2GuestRange(offset, length));
        }
        return guestWriter ??= new GuestWriter(storage, image, disk);
    }

    /// <summary>
    /// Drops the cached mapping, so that the next guest I/O rereads the tables another operation may have moved, and ends the
    /// changes of this open first: the bitmaps get the recorded ranges and lose in-use, and the lazy dirty bit is cleared.
    /// </summary>
    private void ForgetGuestDataState()
    {
        lock (guestGate)
        {
            guestDisk = null;
            guestWriter = null;
            if (storingBitmaps || !guestChangesStarted)
                return;
            storingBitmaps = true;
            try
            {
                StoreTrackedBitmaps();
                if (setLazyDirtyBit)
                {
                    storage.Flush();
                    HeaderFieldUpdates.WriteIncompatibleFeatures(storage, image, image.Header.IncompatibleFeatures & ~Features.Dirty);
                    setLazyDirtyBit = false;
                }
                guestChangesStarted = false;
            }
            finally
            {
                storingBitmaps = false;
            }
        }
    }

    /// <summary>QEMU's <c>qcow2_store_persistent_dirty_bitmaps</c>: each tracked bitmap gets the recorded ranges and in-use cleared.</summary>
    private void StoreTrackedBitmaps()
    {
        if (trackedBitmaps is not { } names)
            return;
        var ranges = changedRanges.OrderBy(r => r.Start).ToList();
        new BitmapDirectoryWriter(this).Write(Bitmaps
            .Select(b => names.Contains(b.Name)
                ? BitmapDefinition.Replace(b, new MergedContent(storage, b, ClusterSize, ranges.GetEnumerator()), b.Entry.Flags & ~BitmapDirectoryEntry.InUseFlag)
                : BitmapDefinition.Keep(b))
            .ToList());
        trackedBitmaps = null;
        changedRanges.Clear();
    }

    /// <summary>Opens what the options ask for: the backing chain (each image once) and the external data file.</summary>
    private Qcow2Image WithLinkedFiles(Qcow2OpenOptions? options)
    {
        if (options is null)
            return this;
        try
        {
            l2CacheBytes = options.L2CacheSize;
            if (options.OpenDataFile && DataFileName is { } dataName)
                dataFileStorage = FileStorage.Open(ResolveBackingFileName(dataName, null, FileName), IsWritable, options.ForceShare, options.SkipFlushes);
            if (options.OpenBackingChain)
            {
                var visited = new HashSet<string>(StringComparer.Ordinal);
                if (FileName is not null)
                    visited.Add(FileName);
                var linkOptions = new Qcow2OpenOptions { OpenDataFile = options.OpenDataFile, L2CacheSize = options.L2CacheSize, ForceShare = options.ForceShare };
                for (var current = this; current.BackingFileName is { } name;)
                {
                    var path = Path.GetFullPath(ResolveBackingFileName(name, current.BackingFormat, current.FileName));
                    if (!visited.Add(path))
                        throw new Qcow2FormatException($"The backing chain loops back to '{path}'", "BackingFileName", name);
                    current.backingImage = Open(path, linkOptions);
                    current = current.backingImage;
                }
            }
            return this;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void CloseGuestData()
    {
        try
        {
            if (storage.CanWrite)
                ForgetGuestDataState();
        }
        finally
        {
            backingImage?.Dispose();
            dataFileStorage?.Dispose();
        }
    }
}
