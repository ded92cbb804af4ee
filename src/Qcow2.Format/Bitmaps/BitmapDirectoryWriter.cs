using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Qcow2;

/// <summary>
/// Writes a bitmap directory in two phases, so that a crash at any write leaves either the old or the new set of bitmaps,
/// each consistent, with at worst leaked clusters (spec §3.7, the way QEMU stores bitmaps on close).
/// <list type="number">
/// <item><see cref="Prepare"/> (phase 1) allocates through <see cref="ClusterAllocator"/> and writes every new data cluster,
/// every new table and a new directory, all in clusters the current header does not reference, and flushes. Nothing the
/// current header points at is changed.</item>
/// <item>The caller (phase 2) puts <see cref="PreparedBitmapDirectory.ApplyToMetadata"/> into the metadata and rewrites the
/// header once (<see cref="Qcow2Image.UpdateHeader"/>): that single cluster-0 write switches the whole set. Then
/// <see cref="PreparedBitmapDirectory.FreeOldClusters"/> frees the old directory, tables and data clusters.
/// <see cref="PreparedBitmapDirectory.Commit"/> does all of phase 2 for callers with nothing else to put in the header.</item>
/// </list>
/// </summary>
internal sealed class BitmapDirectoryWriter
{
    private readonly Qcow2Image owner;
    private readonly IImageStorage storage;
    private readonly ImageMetadata image;

    public BitmapDirectoryWriter(Qcow2Image image)
    {
        owner = image;
        storage = image.Storage;
        this.image = image.Metadata;
    }

    /// <summary>
    /// Phase 1 for a resize to <paramref name="newVirtualSize"/>: every bitmap gets a new table of exactly
    /// <see cref="BitmapTableEntry.RequiredTableSize"/> entries for the new size. Growing: the new bits are clear and the old
    /// data clusters are kept. Shrinking: the entries past the end are dropped, and the bits after the last valid one are
    /// cleared in the (new) last data cluster, which is copied to a new cluster when it has such bits (copy-on-write; a cluster
    /// that becomes all zeros becomes entry 0). Call it before the header write that sets the new size, put
    /// <see cref="PreparedBitmapDirectory.ApplyToMetadata"/> into that same header write, then call
    /// <see cref="PreparedBitmapDirectory.FreeOldClusters"/>. The old size is taken from the metadata, so call this while it
    /// still holds the old size. An all-ones table entry (spec §3.4) in the cluster holding the old or the new last bit is
    /// turned into a data cluster, so that no bit past the old end (grow) or the new end (shrink) is set. With no bitmaps the
    /// result has no changes
    /// (<see cref="PreparedBitmapDirectory.HasChanges"/> is false) and committing it does nothing to the bitmaps.
    /// </summary>
    /// <exception cref="Qcow2FormatException">
    /// A bitmap is in use (inconsistent): "Bitmap 'NAME' is inconsistent and cannot be used", as QEMU refuses; or a bitmap at
    /// the new size would exceed QEMU's limits ("Too much space will be occupied by the bitmap. Use larger granularity").
    /// </exception>
    public PreparedBitmapDirectory PrepareResized(ulong newVirtualSize)
    {
        var definitions = new List<BitmapDefinition>(image.Bitmaps.Count);
        foreach (var bitmap in image.Bitmaps)
        {
            if (bitmap.InUse)
                throw new Qcow2FormatException($"Bitmap '{bitmap.Name}' is inconsistent and cannot be used (its in_use flag is set; remove it first)",
                    "BitmapDirectoryEntry.Flags", bitmap.Name);
            if ((ulong)bitmap.TableSize != BitmapTableEntry.RequiredTableSize(image.VirtualSize, bitmap.GranularityBits, image.ClusterSize))
                throw new InvalidOperationException(
                    $"Bitmap '{bitmap.Name}' does not fit the current virtual size: call PrepareResized before the new size is put into the metadata");
            definitions.Add(BitmapDefinition.Replace(bitmap, new ResizedContent(storage, bitmap, image.ClusterSize, image.VirtualSize, newVirtualSize)));
        }
        return Prepare(definitions, newVirtualSize);
    }

    /// <summary>Both phases for the current virtual size: prepare, switch the header, free the old clusters.</summary>
    public void Write(IReadOnlyList<BitmapDefinition> definitions) => Prepare(definitions, image.VirtualSize).Commit();

    /// <summary>
    /// Phase 1: writes the new tables (for definitions with content, sized for <paramref name="virtualSize"/>) and the new
    /// directory into newly allocated clusters, and flushes. On an exception the clusters allocated so far are freed again
    /// (as far as possible; a crash leaves them leaked) and the image is unchanged.
    /// </summary>
    /// <exception cref="Qcow2FormatException">The definitions break a rule of the format (count, names, sizes).</exception>
    public PreparedBitmapDirectory Prepare(IReadOnlyList<BitmapDefinition> definitions, ulong virtualSize)
    {
        Validate(definitions, virtualSize);
        var clusterSize = image.ClusterSize;
        // Tables, data clusters and directory are linked only by the header switch: their refcounts are written once, at the end.
        var allocator = new ClusterAllocator(storage, image) { DeferWrites = true };
        var allocated = new List<(long Offset, long Count)>();
        var keptDataClusters = new HashSet<ulong>();
        try
        {
            var entries = new List<(BitmapDefinition Definition, BitmapDirectoryEntry Entry)>(definitions.Count);
            foreach (var definition in definitions)
            {
                var name = Encoding.UTF8.GetBytes(definition.Name);
                var entry = new BitmapDirectoryEntry
                {
                    Flags = definition.Flags,
                    Type = BitmapDirectoryEntry.DirtyTrackingType,
                    GranularityBits = (byte)definition.GranularityBits,
                    NameSize = (ushort)name.Length,
                    Name = name,
                    ExtraData = [],
                };
                if (definition.Content is null)
                {
                    entry.TableOffset = definition.Existing!.Entry.TableOffset;
                    entry.TableSize = definition.Existing.Entry.TableSize;
                }
                else
                {
                    var tableSize = (long)BitmapTableEntry.RequiredTableSize(virtualSize, definition.GranularityBits, clusterSize);
                    entry.TableSize = (uint)tableSize;
                    entry.TableOffset = (ulong)WriteTable(allocator, allocated, definition, tableSize, virtualSize, keptDataClusters);
                }
                entries.Add((definition, entry));
            }

            BitmapsExtensionData? extension = null;
            var bitmaps = new List<Qcow2Bitmap>(entries.Count);
            if (entries.Count > 0)
            {
                long directorySize = 0;
                foreach (var (_, entry) in entries)
                    directorySize += entry.GetEncodedSize();
                var directoryClusters = (directorySize + clusterSize - 1) / clusterSize;
                var directoryOffset = allocator.Allocate(directoryClusters);
                allocated.Add((directoryOffset, directoryClusters));
                // Bounded by the 67,107,840-byte directory limit checked in Validate.
                var directory = new byte[directoryClusters * clusterSize];
                var at = 0;
                foreach (var (definition, entry) in entries)
                {
                    entry.Write(directory.AsSpan(at));
                    bitmaps.Add(new Qcow2Bitmap(definition.Name, entry, directoryOffset + at));
                    at += entry.GetEncodedSize();
                }
                storage.Write(directoryOffset, directory);
                extension = new BitmapsExtensionData
                {
                    NbBitmaps = (uint)entries.Count,
                    DirectorySize = (ulong)directorySize,
                    DirectoryOffset = (ulong)directoryOffset,
                };
            }
            allocator.WritePending();
            storage.Flush();
            var hasChanges = image.BitmapsExtension is not null || entries.Count > 0;
            return new PreparedBitmapDirectory(owner, extension, bitmaps, OldClusters(definitions, keptDataClusters), allocated, hasChanges);
        }
        catch (Exception) when (allocated.Count > 0)
        {
            FreeQuietly(storage, image, allocated);
            throw;
        }
    }

    /// <summary>
    /// The rules a directory must keep, checked in the order QEMU checks a new bitmap (empty name, granularity, duplicate,
    /// v2, name length, table size, count, directory size), so that the first refusal is QEMU's. Mistakes in the bitmaps
    /// asked for are <see cref="ArgumentException"/>s; limits of the image are <see cref="Qcow2FormatException"/>s.
    /// </summary>
    private void Validate(IReadOnlyList<BitmapDefinition> definitions, ulong virtualSize)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var definition in definitions)
        {
            if (definition.Name.Length == 0 && definition.Existing is null)
                throw new ArgumentException("Bitmap name cannot be empty");
            if (definition.GranularityBits is < 9 or > 31)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Granularity must be power of 2 and at least 512 (at most 2147483648; bitmap '{definition.Name}' asks for 2^{definition.GranularityBits} or a value that is not a power of 2)"));
            if (!names.Add(definition.Name))
                throw new ArgumentException($"Bitmap already exists: {definition.Name}");
        }
        if (definitions.Count > 0 && image.Header.Version < 3)
            throw new Qcow2FormatException("Cannot store dirty bitmaps in qcow2 v2 files", "Qcow2Header.Version", "2");

        var existing = new HashSet<Qcow2Bitmap>(ReferenceEqualityComparer.Instance);
        long directorySize = 0;
        foreach (var definition in definitions)
        {
            var name = Encoding.UTF8.GetBytes(definition.Name);
            var nameSize = name.Length;
            if (nameSize > Limits.MaxNameSize)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Name length exceeds maximum (1023 characters) (the name is {nameSize} bytes of UTF-8)"));
            if ((definition.Flags & ~(BitmapDirectoryEntry.InUseFlag | BitmapDirectoryEntry.AutoFlag)) != 0)
                throw new Qcow2FormatException("Unknown bitmap flags", "BitmapDirectoryEntry.Flags", definition.Flags.ToString(CultureInfo.InvariantCulture));
            if (definition.Existing is { } old)
            {
                if (!existing.Add(old))
                    throw new InvalidOperationException($"Bitmap '{old.Name}' is used by two definitions");
                if (definition.Content is null && old.GranularityBits != definition.GranularityBits)
                    throw new InvalidOperationException($"Bitmap '{old.Name}' keeps its table but changes its granularity");
            }
            else if (definition.Content is null)
                throw new InvalidOperationException($"Bitmap '{definition.Name}' has neither an existing table nor new contents");
            if (definition.Content is not null)
                CheckTableLimits(definition.GranularityBits, virtualSize, image.ClusterSize);
            directorySize += new BitmapDirectoryEntry { Name = name }.GetEncodedSize();
        }
        if (definitions.Count > Limits.MaxBitmaps)
            throw new Qcow2FormatException(string.Create(CultureInfo.InvariantCulture, $"Maximum number of persistent bitmaps is already reached ({Limits.MaxBitmaps})"),
                "BitmapsExtensionData.NbBitmaps", definitions.Count.ToString(CultureInfo.InvariantCulture));
        if (directorySize > Limits.MaxBitmapDirectorySize)
            throw new Qcow2FormatException(string.Create(CultureInfo.InvariantCulture,
                $"Not enough space in the bitmap directory (it would be {directorySize} bytes; at most {Limits.MaxBitmapDirectorySize})"),
                "BitmapsExtensionData.DirectorySize", directorySize.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>QEMU's <c>qcow2_co_can_store_new_dirty_bitmap</c> size check.</summary>
    internal static void CheckTableLimits(int granularityBits, ulong virtualSize, long clusterSize)
    {
        var tableSize = BitmapTableEntry.RequiredTableSize(virtualSize, granularityBits, clusterSize);
        // A table of 0 entries breaks QEMU's own rule (bitmap_table_size != 0): qemu-img loses such a bitmap on close.
        if (tableSize == 0)
            throw new Qcow2FormatException("Cannot store a bitmap for an image of size 0: its bitmap table would be empty",
                nameof(Qcow2Header) + ".VirtualSize", "0");
        if (tableSize > BitmapDirectoryEntry.MaxTableEntries || tableSize * (ulong)clusterSize > BitmapDirectoryEntry.MaxTableBytes)
            throw new Qcow2FormatException(string.Create(CultureInfo.InvariantCulture,
                $"Too much space will be occupied by the bitmap. Use larger granularity (a table of {tableSize} clusters of {clusterSize} bytes; at most {BitmapDirectoryEntry.MaxTableBytes} bytes and {BitmapDirectoryEntry.MaxTableEntries} entries)"),
                "BitmapDirectoryEntry.TableSize", tableSize.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Allocates the table, then a data cluster for every produced cluster with a set bit; returns the table offset.</summary>
    private long WriteTable(ClusterAllocator allocator, List<(long Offset, long Count)> allocated, BitmapDefinition definition,
        long tableSize, ulong virtualSize, HashSet<ulong> keptDataClusters)
    {
        var clusterSize = image.ClusterSize;
        var tableClusters = (tableSize * sizeof(ulong) + clusterSize - 1) / clusterSize;
        var tableOffset = allocator.Allocate(tableClusters);
        allocated.Add((tableOffset, tableClusters));

        var validBits = Align.DivideRoundUp(virtualSize, 1UL << definition.GranularityBits);
        var bitsPerCluster = (ulong)clusterSize * 8;
        var cluster = new byte[clusterSize];
        var chunkEntries = (int)Math.Min(tableSize, EntryTable.ChunkEntries);
        var chunk = new byte[chunkEntries * sizeof(ulong)];
        var chunkStart = 0L;
        var filled = 0;
        for (long index = 0; index < tableSize; index++)
        {
            Array.Clear(cluster);
            var kept = definition.Content!.Produce(index, cluster);
            ulong value;
            if (kept is { } keep)
            {
                var entry = new BitmapTableEntry(keep);
                if (!entry.IsValid(clusterSize))
                    throw new InvalidOperationException($"Bitmap '{definition.Name}': the kept table entry 0x{keep:X16} is not valid");
                if (entry.Offset != 0 && (definition.Existing is null || !keptDataClusters.Add(entry.Offset)))
                    throw new InvalidOperationException($"Bitmap '{definition.Name}': data cluster 0x{entry.Offset:X} is kept twice or does not belong to it");
                value = keep;
            }
            else
            {
                var firstBit = (ulong)index * bitsPerCluster;
                if (validBits < firstBit + bitsPerCluster)
                    BitmapBits.ClearFrom(cluster, validBits > firstBit ? (long)(validBits - firstBit) : 0);
                if (cluster.AsSpan().IndexOfAnyExcept((byte)0) < 0)
                    value = 0;
                else
                {
                    var offset = allocator.Allocate(1);
                    allocated.Add((offset, 1));
                    storage.Write(offset, cluster);
                    value = (ulong)offset;
                }
            }
            BinaryPrimitives.WriteUInt64BigEndian(chunk.AsSpan(filled * sizeof(ulong)), value);
            if (++filled == chunkEntries || index == tableSize - 1)
            {
                storage.Write(tableOffset + chunkStart * sizeof(ulong), chunk.AsSpan(0, filled * sizeof(ulong)));
                chunkStart += filled;
                filled = 0;
            }
        }
        // Zero the rest of the last table cluster: a reused cluster may hold stale bytes.
        var tail = tableClusters * clusterSize - tableSize * sizeof(ulong);
        if (tail > 0)
            storage.Write(tableOffset + tableSize * sizeof(ulong), new byte[tail]);
        return tableOffset;
    }

    /// <summary>The old directory, and the tables and data clusters of old bitmaps that are removed or get a new table.</summary>
    private List<(long Offset, long Count)> OldClusters(IReadOnlyList<BitmapDefinition> definitions, HashSet<ulong> keptDataClusters)
    {
        var clusterSize = image.ClusterSize;
        var result = new List<(long Offset, long Count)>();
        if (image.BitmapsExtension is { } extension)
            result.Add(((long)extension.DirectoryOffset, (long)((extension.DirectorySize + (ulong)clusterSize - 1) / (ulong)clusterSize)));
        var keptTables = new HashSet<Qcow2Bitmap>(ReferenceEqualityComparer.Instance);
        foreach (var definition in definitions)
        {
            if (definition is { Existing: { } old, Content: null })
                keptTables.Add(old);
        }
        foreach (var bitmap in image.Bitmaps)
        {
            if (keptTables.Contains(bitmap))
                continue;
            result.Add((bitmap.TableOffset, ((long)bitmap.TableSize * sizeof(ulong) + clusterSize - 1) / clusterSize));
            var reader = EntryTableReader.ForBitmap(storage, bitmap);
            for (long i = 0; i < bitmap.TableSize; i++)
            {
                var entry = new BitmapTableEntry(reader[i]);
                // An in-use bitmap's table is never validated by QEMU; skip what is not a valid cluster (at worst a leak).
                if (entry.Offset != 0 && entry.IsValid(clusterSize) && !keptDataClusters.Contains(entry.Offset))
                {
                    if (result.Count > 0 && result[^1].Offset + result[^1].Count * clusterSize == (long)entry.Offset)
                        result[^1] = (result[^1].Offset, result[^1].Count + 1);
                    else
                        result.Add(((long)entry.Offset, 1));
                }
            }
        }
        return result;
    }

    /// <summary>Frees runs of clusters, skipping any whose refcount is already 0 (never fails: at worst a leak remains).</summary>
    internal static void FreeQuietly(IImageStorage storage, ImageMetadata image, IEnumerable<(long Offset, long Count)> runs)
    {
        var allocator = new ClusterAllocator(storage, image);
        allocator.FreeQuietly(runs.SelectMany(run => allocator.Clusters(run.Offset, run.Count)));
    }

    /// <summary>A resized copy of a consistent bitmap (see <see cref="PrepareResized"/>).</summary>
    private sealed class ResizedContent(IImageStorage storage, Qcow2Bitmap old, int clusterSize, ulong oldVirtualSize, ulong newVirtualSize) : BitmapContent
    {
        /// <summary>Bits below this are valid both before and after the resize; every later bit must end up clear.</summary>
        private readonly long keptBits = (long)Align.DivideRoundUp(Math.Min(oldVirtualSize, newVirtualSize), 1UL << old.GranularityBits);
        private EntryTableReader? reader;

        public override ulong? Produce(long index, Span<byte> cluster)
        {
            if (index >= old.TableSize)
                return 0;
            reader ??= EntryTableReader.ForBitmap(storage, old);
            var value = reader[index];
            var entry = new BitmapTableEntry(value);
            var bitsPerCluster = (long)clusterSize * 8;
            var firstBit = index * bitsPerCluster;
            if (value == 0 || firstBit + bitsPerCluster <= keptBits)
                return value;
            // The cluster holding the old or the new last bit: bits past the old end (grow) or the new end (shrink) must be 0.
            // An all-ones entry would set them, so it always becomes a data cluster; a data cluster is kept if they are 0 already.
            var valid = Math.Max(0, keptBits - firstBit);
            if (entry.Offset == 0)
                cluster.Fill(0xFF);
            else
            {
                storage.Read((long)entry.Offset, cluster);
                if (!BitmapBits.AnySetFrom(cluster, valid))
                    return value;
            }
            BitmapBits.ClearFrom(cluster, valid);
            return null;
        }
    }
}
