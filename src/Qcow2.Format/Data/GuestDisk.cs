namespace Qcow2;

/// <summary>
/// The virtual disk of one image: reads every kind of (sub)cluster QEMU 7.2 writes and reports the allocation. Unallocated
/// ranges read from the backing image when the caller opened one, as zeros when the image names none, and fail when it names
/// one that was not opened (zeros there would silently be wrong data). Reads are safe from several threads at once.
/// </summary>
internal sealed class GuestDisk
{
    private readonly IImageStorage storage;
    private readonly IImageStorage? dataFile;
    private readonly ImageMetadata image;
    private readonly Qcow2Image? backing;
    private readonly Lock compressedGate = new();
    private ulong compressedEntry;
    private byte[]? compressedCluster;
    private readonly Lazy<bool> probeHoles;

    public GuestDisk(IImageStorage storage, ImageMetadata image, IImageStorage? dataFile, Qcow2Image? backing, long l2CacheBytes)
    {
        this.storage = storage;
        this.image = image;
        this.dataFile = dataFile;
        this.backing = backing;
        Map = new GuestMap(storage, image, l2CacheBytes);
        probeHoles = new(() => MetadataPreallocation.Detect(storage, image));
    }

    public GuestMap Map { get; }

    public Qcow2Image? Backing => backing;

    public long VirtualSize => (long)image.VirtualSize;

    /// <summary>Where data clusters live: the external data file, or the image itself.</summary>
    public IImageStorage DataStorage => Map.ExternalData
        ? dataFile ?? throw new InvalidOperationException(
            $"The image keeps its guest data in the external data file '{image.DataFileName}', which is opened only when asked (Qcow2OpenOptions.OpenDataFile).")
        : storage;

    public void Read(long offset, Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var run = Map.Lookup(offset, buffer.Length);
            ReadRun(run, offset, buffer[..(int)run.Length]);
            buffer = buffer[(int)run.Length..];
            offset += run.Length;
        }
    }

    public async ValueTask ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (buffer.Length > 0)
        {
            var run = Map.Lookup(offset, buffer.Length);
            var part = buffer[..(int)run.Length];
            if (run.Type == SubclusterType.Normal)
                await DataStorage.ReadAsync(run.HostOffset, part, cancellationToken).ConfigureAwait(false);
            else
                ReadRun(run, offset, part.Span);
            buffer = buffer[(int)run.Length..];
            offset += run.Length;
        }
    }

    private void ReadRun(GuestRun run, long offset, Span<byte> part)
    {
        switch (run.Type)
        {
            case SubclusterType.Normal:
                DataStorage.Read(run.HostOffset, part);
                break;
            case SubclusterType.ZeroPlain or SubclusterType.ZeroAllocated:
                part.Clear();
                break;
            case SubclusterType.Compressed:
                ReadCompressed(run.Entry, (int)(offset & ((1L << Map.ClusterBits) - 1)), part);
                break;
            default:
                ReadBacking(offset, part);
                break;
        }
    }

    /// <summary>Reads what an unallocated range shows: the backing image's data (zeros past its end), or zeros without one.</summary>
    public void ReadBacking(long offset, Span<byte> part)
    {
        if (backing is null)
        {
            if (image.BackingFileName is not null)
                throw new InvalidOperationException(
                    $"The range at guest offset {offset} comes from the backing file '{image.BackingFileName}', which is opened only when asked (Qcow2OpenOptions.OpenBackingChain).");
            part.Clear();
            return;
        }
        var inBacking = (int)Math.Clamp(backing.VirtualSize - offset, 0, part.Length);
        if (inBacking > 0)
            backing.Read(offset, part[..inBacking]);
        part[inBacking..].Clear();
    }

    private void ReadCompressed(L2Entry entry, int offsetInCluster, Span<byte> part)
    {
        lock (compressedGate)
        {
            // Sequential reads smaller than a cluster decompress each cluster once.
            if (compressedCluster is null || compressedEntry != entry.Value)
            {
                var cluster = compressedCluster ?? new byte[1 << Map.ClusterBits];
                compressedCluster = null;
                ClusterDecompressor.Decompress((Qcow2CompressionType)image.Header.CompressionType, storage, entry, Map.ClusterBits, cluster);
                (compressedCluster, compressedEntry) = (cluster, entry.Value);
            }
            compressedCluster.AsSpan(offsetInCluster, part.Length).CopyTo(part);
        }
    }

    /// <summary>Drops the decompressed cluster kept for sequential reads (its host clusters may be reused by a write).</summary>
    public void ForgetDecompressed()
    {
        lock (compressedGate)
            compressedCluster = null;
    }

    /// <summary>
    /// A run of data clusters at <paramref name="hostOffset"/> split where the file has holes, which read as zeros
    /// (<see cref="Qcow2ExtentKind.ZeroData"/>): one probe of the file per run, not per cluster.
    /// </summary>
    private static IEnumerable<Qcow2Extent> SplitAtHoles(IImageStorage file, long offset, long length, long hostOffset, int depth)
    {
        var at = hostOffset;
        var end = hostOffset + length;
        foreach (var (start, count) in file.DataRuns(hostOffset, length))
        {
            if (start > at)
                yield return new Qcow2Extent(offset + (at - hostOffset), start - at, Qcow2ExtentKind.ZeroData, false, at, depth);
            yield return new Qcow2Extent(offset + (start - hostOffset), count, Qcow2ExtentKind.Data, false, start, depth);
            at = start + count;
        }
        if (at < end)
            yield return new Qcow2Extent(offset + (at - hostOffset), end - at, Qcow2ExtentKind.ZeroData, false, at, depth);
    }

    /// <summary>The allocation of [offset, offset + length), descending into the backing chain for unallocated ranges.</summary>
    public IEnumerable<Qcow2Extent> GetAllocation(long offset, long length, int depth)
    {
        var end = offset + length;
        while (offset < end)
        {
            var run = Map.Lookup(offset, end - offset);
            switch (run.Type)
            {
                case SubclusterType.Normal when probeHoles.Value && (Map.ExternalData ? dataFile : storage) is { } file:
                    foreach (var extent in SplitAtHoles(file, offset, run.Length, run.HostOffset, depth))
                        yield return extent;
                    break;
                case SubclusterType.Normal:
                    yield return new Qcow2Extent(offset, run.Length, Qcow2ExtentKind.Data, false, run.HostOffset, depth);
                    break;
                case SubclusterType.Compressed:
                    yield return new Qcow2Extent(offset, run.Length, Qcow2ExtentKind.Data, true, null, depth);
                    break;
                case SubclusterType.ZeroAllocated:
                    yield return new Qcow2Extent(offset, run.Length, Qcow2ExtentKind.Zero, false, run.HostOffset, depth);
                    break;
                case SubclusterType.ZeroPlain:
                    yield return new Qcow2Extent(offset, run.Length, Qcow2ExtentKind.Zero, false, null, depth);
                    break;
                default:
                    var inBacking = backing is null ? 0 : Math.Clamp(backing.VirtualSize - offset, 0, run.Length);
                    if (inBacking > 0)
                    {
                        foreach (var extent in backing!.GetAllocationAtDepth(offset, inBacking, depth + 1))
                            yield return extent;
                    }
                    if (run.Length > inBacking)
                        yield return new Qcow2Extent(offset + inBacking, run.Length - inBacking, Qcow2ExtentKind.Unallocated, false,
                            run.Type == SubclusterType.UnallocatedAllocated ? run.HostOffset + inBacking : null, depth);
                    break;
            }
            offset += run.Length;
        }
    }
}
