using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Qcow2;

/// <summary>
/// Writes a new empty image laid out like <c>qemu-img create</c>: cluster 0 header, then the refcount table, the refcount
/// blocks and the L1 table, with every used cluster counted once. The file ends right after the L1 data, as QEMU's does.
/// </summary>
internal static class ImageCreator
{
    public static void Create(string path, long virtualSize, Qcow2CreateOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        Validate(options);
        ArgumentOutOfRangeException.ThrowIfNegative(virtualSize);
        // qemu-img rounds the size up to whole sectors.
        var size = (ulong)virtualSize + 511 & ~511UL;
        var clusterBits = BitOperations.Log2((uint)options.ClusterSize);
        var refcountOrder = BitOperations.Log2((uint)options.RefcountBits);
        var l1Entries = new L1L2Geometry(clusterBits, options.ExtendedL2).RequiredL1Entries(size);
        if (l1Entries > Limits.MaxL1Entries || size > Limits.MaxVirtualSize)
            throw Fail("The image size is too large for file format 'qcow2' (try using a larger cluster size)", "VirtualSize", virtualSize,
                $"needs {l1Entries} L1 entries with {options.ClusterSize}-byte clusters; at most {Limits.MaxL1Entries} are allowed");

        var layout = Layout.For(clusterBits, refcountOrder, (long)l1Entries);
        var image = new ImageMetadata
        {
            BackingFileName = options.BackingFile,
            BackingFormat = options.BackingFormat,
        };
        image.Header = new Qcow2Header
        {
            Version = (uint)options.Version,
            ClusterBits = (uint)clusterBits,
            VirtualSize = size,
            L1Size = (uint)l1Entries,
            L1TableOffset = (ulong)layout.L1Offset,
            RefcountTableOffset = (ulong)layout.RefcountTableOffset,
            RefcountTableClusters = (uint)layout.RefcountTableClusters,
            IncompatibleFeatures = (options.ExtendedL2 ? Features.ExtendedL2 : 0)
                | (options.CompressionType != Qcow2CompressionType.Zlib ? Features.CompressionType : 0),
            CompatibleFeatures = options.LazyRefcounts ? Features.LazyRefcounts : 0,
            RefcountOrder = (uint)refcountOrder,
            HeaderLength = options.Version >= 3 ? (uint)Qcow2Header.Size : Qcow2Header.V2Length,
            CompressionType = (byte)options.CompressionType,
        };
        var (cluster0, _, _) = HeaderWriter.Build(image);

        using var storage = FileStorage.CreateNew(path);
        storage.SetLength(layout.FileLength);
        storage.Write(layout.RefcountTableOffset, layout.BuildRefcountTable());
        storage.Write(layout.RefcountBlocksOffset, layout.BuildRefcountBlocks());
        // The header goes last, so that a crash never leaves something that looks like a valid image.
        storage.Flush();
        storage.Write(0, cluster0);
        storage.Flush();
    }

    private static void Validate(Qcow2CreateOptions o)
    {
        ValidateClusterSize(o);
        if (o.Version is not (2 or 3))
            throw Fail($"Unsupported qcow2 version {o.Version}", "Version", o.Version, "is not 2 (compat 0.10) or 3 (compat 1.1)");
        if (o.RefcountBits is < 1 or > 64 || !BitOperations.IsPow2(o.RefcountBits))
            throw Fail("Refcount width must be a power of two and may not exceed 64 bits", "RefcountBits", o.RefcountBits, "is not a power of two in 1..64");
        if (o.Version < 3 && o.RefcountBits != 16)
            throw Fail("Different refcount widths than 16 bits require compatibility level 1.1 or above", "RefcountBits", o.RefcountBits, "must be 16 for version 2");
        if (o.Version < 3 && o.LazyRefcounts)
            throw Fail("Lazy refcounts only supported with compatibility level 1.1 and above", "LazyRefcounts", true, "needs version 3");
        if (o.Version < 3 && o.ExtendedL2)
            throw Fail("Extended L2 entries are only supported with compatibility level 1.1 and above", "ExtendedL2", true, "needs version 3");
        if (o.ExtendedL2 && o.ClusterSize < 16384)
            throw Fail("Extended L2 entries are only supported with cluster sizes of at least 16384 bytes", "ClusterSize", o.ClusterSize, "is below 16384 with extended L2");
        if (o.CompressionType is not (Qcow2CompressionType.Zlib or Qcow2CompressionType.Zstd))
            throw Fail($"qcow2: unknown compression type: {(int)o.CompressionType}", "CompressionType", o.CompressionType, "is not zlib or zstd");
        if (o.Version < 3 && o.CompressionType != Qcow2CompressionType.Zlib)
            throw Fail("Non-zlib compression type is only supported with compatibility level 1.1 and above", "CompressionType", o.CompressionType, "needs version 3");
        if (o.BackingFormat is not null && o.BackingFile is null)
            throw Fail("Backing format cannot be used without backing file", "BackingFormat", o.BackingFormat, "needs BackingFile");
        if (o.BackingFormat is not null && Encoding.UTF8.GetByteCount(o.BackingFormat) > Limits.MaxBackingFormatLength)
            throw Fail("Backing format name too long", "BackingFormat", o.BackingFormat, $"is longer than {Limits.MaxBackingFormatLength} bytes");
    }

    /// <summary>A refused option: QEMU's words for the rule, then the option, its value and the rule in the library's terms.</summary>
    /// <summary>The one rule <c>qemu-img measure</c> applies too (it accepts option mixes that create refuses).</summary>
    internal static void ValidateClusterSize(Qcow2CreateOptions o)
    {
        if (o.ClusterSize is < 512 or > 2 * 1024 * 1024 || !BitOperations.IsPow2(o.ClusterSize))
            throw Fail("Cluster size must be a power of two between 512 and 2048k", "ClusterSize", o.ClusterSize, "is not a power of two in 512..2097152");
    }

    private static ArgumentException Fail(string qemuMessage, string option, object value, string rule)
    {
        var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        return new($"{qemuMessage} (Qcow2CreateOptions.{option}: {text} {rule})", "options");
    }

    /// <summary>Where the metadata of a new image goes, and how many clusters each part needs.</summary>
    private sealed record Layout(int ClusterBits, int RefcountOrder, long RefcountTableClusters, long RefcountBlocks, long L1Entries)
    {
        private long ClusterSize => 1L << ClusterBits;
        public long RefcountTableOffset => ClusterSize;
        public long RefcountBlocksOffset => (1 + RefcountTableClusters) * ClusterSize;
        private long L1Clusters => (L1Entries * sizeof(ulong) + ClusterSize - 1) / ClusterSize;
        private long UsedClusters => 1 + RefcountTableClusters + RefcountBlocks + L1Clusters;

        /// <summary>QEMU leaves the L1 offset at 0 when the table is empty (size 0).</summary>
        public long L1Offset => L1Entries == 0 ? 0 : RefcountBlocksOffset + RefcountBlocks * ClusterSize;

        public long FileLength => L1Entries == 0 ? UsedClusters * ClusterSize : L1Offset + L1Entries * sizeof(ulong);

        /// <summary>The refcount blocks must count themselves and the table, so grow both until they cover everything.</summary>
        public static Layout For(int clusterBits, int refcountOrder, long l1Entries)
        {
            var layout = new Layout(clusterBits, refcountOrder, 1, 1, l1Entries);
            while (true)
            {
                var blocks = (layout.UsedClusters + layout.EntriesPerBlock - 1) / layout.EntriesPerBlock;
                var tableClusters = (blocks * sizeof(ulong) + layout.ClusterSize - 1) / layout.ClusterSize;
                if (blocks <= layout.RefcountBlocks && tableClusters <= layout.RefcountTableClusters)
                    return layout;
                layout = layout with
                {
                    RefcountBlocks = Math.Max(blocks, layout.RefcountBlocks),
                    RefcountTableClusters = Math.Max(tableClusters, layout.RefcountTableClusters),
                };
            }
        }

        private long EntriesPerBlock => Refcounts.EntriesPerBlock(ClusterBits, RefcountOrder);

        public byte[] BuildRefcountTable()
        {
            var table = new byte[RefcountTableClusters * ClusterSize];
            for (var i = 0; i < RefcountBlocks; i++)
                BinaryPrimitives.WriteUInt64BigEndian(table.AsSpan(i * sizeof(ulong)), (ulong)(RefcountBlocksOffset + i * ClusterSize));
            return table;
        }

        public byte[] BuildRefcountBlocks()
        {
            var blocks = new byte[RefcountBlocks * ClusterSize];
            for (long cluster = 0; cluster < UsedClusters; cluster++)
                Refcounts.Set(blocks, cluster, RefcountOrder, 1);
            return blocks;
        }
    }
}
