using System.Globalization;

namespace Qcow2;

/// <summary>
/// What every pass of one check run shares: the image and its geometry, the options, the refcount table in force (a rebuild
/// replaces it) and the findings in the order they were made. The passes' counts are not here: each pass returns its own.
/// </summary>
internal sealed class CheckContext
{
    public CheckContext(IImageStorage storage, ImageMetadata image, Qcow2CheckOptions options)
    {
        Storage = storage;
        Image = image;
        Options = options;
        ClusterBits = image.ClusterBits;
        ClusterSize = image.ClusterSize;
        RefcountOrder = (int)image.Header.RefcountOrder;
        HasDataFile = image.HasExternalDataFile;
        Geometry = image.Geometry;
        Classifier = image.Classifier;
        RefcountsPerBlock = Refcounts.EntriesPerBlock(ClusterBits, RefcountOrder);
        RefcountBlockBits = ClusterBits + 3 - RefcountOrder;
        LoadRefcountTable();
    }

    public IImageStorage Storage { get; }
    public ImageMetadata Image { get; }
    public Qcow2CheckOptions Options { get; }
    public int ClusterBits { get; }
    public int ClusterSize { get; }
    public int RefcountOrder { get; }
    public bool HasDataFile { get; }
    public L1L2Geometry Geometry { get; }
    public ClusterClassifier Classifier { get; }
    public long RefcountsPerBlock { get; }

    /// <summary>log2 of <see cref="RefcountsPerBlock"/>: a cluster's refcount block index is <c>cluster &gt;&gt; RefcountBlockBits</c>.</summary>
    public int RefcountBlockBits { get; }
    public List<Qcow2CheckFinding> Findings { get; } = [];

    /// <summary>The refcount table's entries as last read.</summary>
    public ulong[] RefcountTable { get; private set; } = [];

    public void LoadRefcountTable()
    {
        // Open already bounded this to 8 MiB.
        var entries = (int)((long)Image.Header.RefcountTableClusters * ClusterSize / sizeof(ulong));
        RefcountTable = entries == 0 ? [] : EntryTable.Read(Storage, (long)Image.Header.RefcountTableOffset, entries);
    }

    /// <summary>
    /// Whether a pass that only reads tables (no repair: a prefetched table must not be one the pass rewrites) may read them
    /// ahead on a second thread.
    /// </summary>
    public bool CanPrefetch(Qcow2CheckRepair fix) => fix == Qcow2CheckRepair.None && !Options.SingleThreaded && Storage.SupportsConcurrentReads;

    /// <summary>Whether QEMU can read a refcount block at <paramref name="offset"/>: cluster-aligned and below BDRV_MAX_LENGTH.</summary>
    public bool Readable(ulong offset) => offset % (ulong)ClusterSize == 0 && offset <= Addressable.MaxLength - (ulong)ClusterSize;

    /// <summary>The clusters the refcount table can describe (at most 2^20 entries × 2^24 refcounts per block).</summary>
    public ulong DescribableClusters => (ulong)RefcountTable.Length * (ulong)RefcountsPerBlock;

    public long ClustersFor(long bytes) => (bytes + ClusterSize - 1) >> ClusterBits;

    public static string Hex(ulong value) => value.ToString("x", CultureInfo.InvariantCulture);

    public static string HexPrefixed(ulong value) => "0x" + Hex(value);
}
