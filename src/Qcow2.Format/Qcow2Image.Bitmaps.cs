using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Qcow2;

public sealed partial class Qcow2Image
{
    private const string NameField = "BitmapDirectoryEntry.Name";
    private const string FlagsField = "BitmapDirectoryEntry.Flags";

    /// <summary>
    /// Adds an empty persistent dirty bitmap, as <c>qemu-img bitmap --add</c> does (spec §3.6). The bitmap is appended to the
    /// directory with a table sized for the virtual size whose entries are all 0 (no bit set). The change is crash-safe: new
    /// table and directory first, then one header write, then the old directory is freed.
    /// </summary>
    /// <param name="name">The name: 1 to 1023 bytes of UTF-8, unique in the image.</param>
    /// <param name="granularity">The guest bytes one bit covers: a power of two from 512 to 2 GiB; null for the cluster size (QEMU's default).</param>
    /// <param name="enabled">Whether the bitmap is enabled (the <c>auto</c> flag: it tracks writes made by QEMU).</param>
    /// <exception cref="ArgumentException">
    /// The name or granularity is refused, with QEMU's message, checked in QEMU's order: "Bitmap name cannot be empty",
    /// "Granularity must be power of 2 and at least 512", "Bitmap already exists: NAME", and (after the v2 check) "Name length
    /// exceeds maximum (1023 characters)".
    /// </exception>
    /// <exception cref="Qcow2FormatException">
    /// The image cannot store it, with QEMU's message: "Cannot store dirty bitmaps in qcow2 v2 files", "Too much space will be
    /// occupied by the bitmap. Use larger granularity", "Maximum number of persistent bitmaps is already reached", "Not enough
    /// space in the bitmap directory".
    /// </exception>
    /// <exception cref="InvalidOperationException">The image is read-only.</exception>
    public void AddBitmap(string name, long? granularity = null, bool enabled = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        EnsureWritable();
        var bytes = granularity ?? ClusterSize;
        // A granularity that is not a power of two has no bit count: -1 lets the directory's rules refuse it in QEMU's order.
        var bits = bytes > 0 && BitOperations.IsPow2(bytes) ? BitOperations.Log2((ulong)bytes) : -1;
        var definitions = Bitmaps.Select(b => BitmapDefinition.Keep(b)).ToList();
        definitions.Add(BitmapDefinition.New(name, bits, enabled ? BitmapDirectoryEntry.AutoFlag : 0, BitmapContent.Empty));
        WriteBitmaps(definitions);
    }

    /// <summary>
    /// Removes a bitmap, as <c>qemu-img bitmap --remove</c> does; in-use (inconsistent) bitmaps can be removed too. Its table
    /// and data clusters are freed after the header no longer references them. Removing the last bitmap drops the bitmaps
    /// extension and clears autoclear bit 0, as QEMU does.
    /// </summary>
    /// <param name="name">The bitmap's name.</param>
    /// <exception cref="Qcow2FormatException">No such bitmap: "Dirty bitmap 'NAME' not found".</exception>
    /// <exception cref="InvalidOperationException">The image is read-only.</exception>
    public void RemoveBitmap(string name)
    {
        EnsureWritable();
        var bitmap = FindBitmap(name);
        WriteBitmaps(Bitmaps.Where(b => !ReferenceEquals(b, bitmap)).Select(b => BitmapDefinition.Keep(b)).ToList());
    }

    /// <summary>Clears every bit of a bitmap (<c>qemu-img bitmap --clear</c>): it gets a new all-zero table; the old table and data are freed.</summary>
    /// <param name="name">The bitmap's name.</param>
    /// <exception cref="Qcow2FormatException">
    /// No such bitmap, it is in use ("Bitmap 'NAME' is inconsistent and cannot be used"), or its table is broken (an entry
    /// points past the end of the file).
    /// </exception>
    /// <exception cref="InvalidOperationException">The image is read-only.</exception>
    public void ClearBitmap(string name)
    {
        EnsureWritable();
        var bitmap = FindConsistentBitmap(name);
        // Its old data clusters are freed afterwards: they must be real clusters of this file.
        ThrowIfTableBroken(bitmap);
        Rewrite(bitmap, BitmapDefinition.Replace(bitmap, BitmapContent.Empty));
    }

    /// <summary>Enables a bitmap (sets its <c>auto</c> flag, <c>qemu-img bitmap --enable</c>). Its data is kept as it is.</summary>
    /// <param name="name">The bitmap's name.</param>
    /// <exception cref="Qcow2FormatException">No such bitmap, or it is in use: "Bitmap 'NAME' is inconsistent and cannot be used".</exception>
    /// <exception cref="InvalidOperationException">The image is read-only.</exception>
    public void EnableBitmap(string name) => SetEnabled(name, true);

    /// <summary>Disables a bitmap (clears its <c>auto</c> flag, <c>qemu-img bitmap --disable</c>): QEMU stops recording writes in it. Its data is kept.</summary>
    /// <param name="name">The bitmap's name.</param>
    /// <exception cref="Qcow2FormatException">No such bitmap, or it is in use: "Bitmap 'NAME' is inconsistent and cannot be used".</exception>
    /// <exception cref="InvalidOperationException">The image is read-only.</exception>
    public void DisableBitmap(string name) => SetEnabled(name, false);

    /// <summary>
    /// Merges the bits of <paramref name="sourceName"/> in <paramref name="sourceImage"/> (this image or another open one, which
    /// may be read-only) into bitmap <paramref name="target"/> of this image, as <c>qemu-img bitmap --merge</c> does. The
    /// granularities may differ: a dirty source bit marks every target bit whose range its range touches. The target gets a new
    /// table; its clusters that no source bit touches are kept, the others are copied. Streams both bitmaps.
    /// </summary>
    /// <param name="target">The bitmap of this image to merge into; it may be disabled.</param>
    /// <param name="sourceImage">The image holding the source bitmap.</param>
    /// <param name="sourceName">The source bitmap's name.</param>
    /// <exception cref="Qcow2FormatException">
    /// A bitmap is missing ("Dirty bitmap 'NAME' not found") or in use ("Bitmap 'NAME' is inconsistent and cannot be used"),
    /// or the virtual sizes differ ("Bitmaps are of different sizes (destination size is N, source size is M) and can't be merged").
    /// </exception>
    /// <exception cref="InvalidOperationException">This image is read-only.</exception>
    public void MergeBitmap(string target, Qcow2Image sourceImage, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceImage);
        EnsureWritable();
        ObjectDisposedException.ThrowIf(sourceImage.disposed, sourceImage);
        var source = sourceImage.FindBitmap(sourceName);
        var bitmap = FindConsistentBitmap(target);
        ThrowIfInconsistent(source);
        ThrowIfTableBroken(bitmap);
        sourceImage.ThrowIfTableBroken(source);
        if (sourceImage.VirtualSize != VirtualSize)
            throw new Qcow2FormatException(string.Create(CultureInfo.InvariantCulture,
                $"Bitmaps are of different sizes (destination size is {VirtualSize}, source size is {sourceImage.VirtualSize}) and can't be merged"),
                "Qcow2Header.VirtualSize", sourceImage.VirtualSize.ToString(CultureInfo.InvariantCulture));
        using var ranges = sourceImage.GetDirtyRanges(source).GetEnumerator();
        Rewrite(bitmap, BitmapDefinition.Replace(bitmap, new MergedContent(storage, bitmap, ClusterSize, ranges)));
    }

    /// <summary>
    /// The guest ranges whose bits are set in a bitmap, sorted and coalesced (adjacent dirty bits form one range), each
    /// ending at the virtual size at most. Streams: the table is read in chunks and the data clusters one at a time, so a
    /// bitmap of any size is never held in memory. An all-ones table entry (spec §3.4) marks its whole cluster dirty. The
    /// image must not be changed while the enumeration runs.
    /// </summary>
    /// <param name="name">The bitmap's name.</param>
    /// <exception cref="Qcow2FormatException">No such bitmap, or it is in use: "Bitmap 'NAME' is inconsistent and cannot be used".</exception>
    public IEnumerable<Qcow2GuestRange> GetDirtyRanges(string name)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var bitmap = FindConsistentBitmap(name);
        ThrowIfTableBroken(bitmap);
        return GetDirtyRanges(bitmap);
    }

    private IEnumerable<Qcow2GuestRange> GetDirtyRanges(Qcow2Bitmap bitmap)
    {
        var clusterSize = ClusterSize;
        var granularity = bitmap.Granularity;
        var virtualSize = VirtualSize;
        var validBits = (long)Align.DivideRoundUp((ulong)virtualSize, (ulong)granularity);
        var bitsPerCluster = (long)clusterSize * 8;
        var cluster = new byte[clusterSize];
        var reader = EntryTableReader.ForBitmap(storage, bitmap);
        long runStart = -1, runEnd = -1;
        for (long index = 0; index < bitmap.TableSize; index++)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            var first = index * bitsPerCluster;
            if (first >= validBits)
                break;
            var limit = Math.Min(bitsPerCluster, validBits - first);
            var entry = new BitmapTableEntry(reader[index]);
            if (entry.Offset == 0)
            {
                if ((entry.Value & BitmapTableEntry.AllOnesFlag) == 0)
                    continue;
                if (runEnd == first)
                    runEnd = first + limit;
                else
                {
                    if (runStart >= 0)
                        yield return ToGuest(runStart, runEnd, granularity, virtualSize);
                    (runStart, runEnd) = (first, first + limit);
                }
                continue;
            }
            storage.Read((long)entry.Offset, cluster);
            long at = 0;
            while (NextRun(cluster, at, limit, out var start, out var end))
            {
                if (runEnd == first + start)
                    runEnd = first + end;
                else
                {
                    if (runStart >= 0)
                        yield return ToGuest(runStart, runEnd, granularity, virtualSize);
                    (runStart, runEnd) = (first + start, first + end);
                }
                at = end;
            }
        }
        if (runStart >= 0)
            yield return ToGuest(runStart, runEnd, granularity, virtualSize);
    }

    private static Qcow2GuestRange ToGuest(long startBit, long endBit, long granularity, long virtualSize)
    {
        var start = startBit * granularity;
        return new Qcow2GuestRange(start, Math.Min(endBit * granularity, virtualSize) - start);
    }

    /// <summary>The next run of set bits in [<paramref name="from"/>, <paramref name="limit"/>) of a serialized cluster (bit i at byte i/8, LSB first).</summary>
    private static bool NextRun(byte[] data, long from, long limit, out long start, out long end)
    {
        start = Scan(data, from, limit, set: true);
        end = start < limit ? Scan(data, start, limit, set: false) : limit;
        return start < limit;
    }

    /// <summary>The first bit at or after <paramref name="from"/> that is set (or clear), or <paramref name="limit"/>.</summary>
    private static long Scan(byte[] data, long from, long limit, bool set)
    {
        var bit = from;
        while (bit < limit)
        {
            var word = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan((int)(bit / 64 * 8)));
            if (!set)
                word = ~word;
            word &= ulong.MaxValue << (int)(bit % 64);
            if (word != 0)
                return Math.Min(limit, bit / 64 * 64 + BitOperations.TrailingZeroCount(word));
            bit = (bit / 64 + 1) * 64;
        }
        return limit;
    }

    private void SetEnabled(string name, bool enabled)
    {
        EnsureWritable();
        var bitmap = FindConsistentBitmap(name);
        if (bitmap.Enabled == enabled)
            return;
        var flags = enabled ? bitmap.Entry.Flags | BitmapDirectoryEntry.AutoFlag : bitmap.Entry.Flags & ~BitmapDirectoryEntry.AutoFlag;
        Rewrite(bitmap, BitmapDefinition.Keep(bitmap, flags));
    }

    /// <summary>Writes the directory with <paramref name="bitmap"/> replaced by <paramref name="replacement"/>, the others kept.</summary>
    private void Rewrite(Qcow2Bitmap bitmap, BitmapDefinition replacement) =>
        WriteBitmaps(Bitmaps.Select(b => ReferenceEquals(b, bitmap) ? replacement : BitmapDefinition.Keep(b)).ToList());

    /// <summary>Switches to a new set of bitmaps now, or, inside <see cref="ChangeBitmapsTogether"/>, at the end of the batch.</summary>
    private void WriteBitmaps(IReadOnlyList<BitmapDefinition> definitions)
    {
        var prepared = new BitmapDirectoryWriter(this).Prepare(definitions, image.VirtualSize);
        if (pendingBitmapChanges is null)
        {
            prepared.Commit();
            return;
        }
        // Later changes of the batch build on this one in memory; the header keeps pointing at the old set until the end.
        prepared.ApplyToMetadata();
        pendingBitmapChanges.Add(prepared);
    }

    /// <summary>
    /// Runs several bitmap changes (<see cref="AddBitmap"/>, <see cref="RemoveBitmap"/>, <see cref="ClearBitmap"/>,
    /// <see cref="EnableBitmap"/>, <see cref="DisableBitmap"/>, <see cref="MergeBitmap"/>) made by <paramref name="changes"/> as
    /// one: each builds on the previous one, but the header switches to the final set in a single write at the end. A crash
    /// at any point leaves the old set or the final one, never a mix (at worst with leaked clusters); if a change throws, the
    /// image and this object are left as before the batch and the exception propagates.
    /// </summary>
    /// <exception cref="InvalidOperationException">The image is read-only, or a batch is already running.</exception>
    public void ChangeBitmapsTogether(Action changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        EnsureWritable();
        if (pendingBitmapChanges is not null)
            throw new InvalidOperationException("A batch of bitmap changes is already running.");
        var steps = pendingBitmapChanges = [];
        try
        {
            changes();
            pendingBitmapChanges = null;
            if (steps.Count > 0)
                UpdateHeader();
        }
        catch
        {
            pendingBitmapChanges = null;
            // Newest first, so that each step restores the metadata the one before it left.
            for (var i = steps.Count - 1; i >= 0; i--)
                steps[i].Discard();
            throw;
        }
        foreach (var step in steps)
            step.FreeOldClusters();
    }

    private Qcow2Bitmap FindBitmap(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Bitmaps.FirstOrDefault(b => b.Name == name)
            ?? throw new Qcow2FormatException($"Dirty bitmap '{name}' not found", NameField, name);
    }

    private Qcow2Bitmap FindConsistentBitmap(string name)
    {
        var bitmap = FindBitmap(name);
        ThrowIfInconsistent(bitmap);
        return bitmap;
    }

    /// <summary>
    /// Refuses a bitmap whose table points a data cluster past the end of the file: its bits there are lost, and reading them
    /// as zeros would report clean what may be dirty. (Opening accepts it, as QEMU does; <c>check -r all</c> invalidates it.)
    /// </summary>
    private void ThrowIfTableBroken(Qcow2Bitmap bitmap)
    {
        var reader = EntryTableReader.ForBitmap(storage, bitmap);
        var length = storage.Length;
        for (long index = 0; index < reader.InFile; index++)
        {
            var entry = new BitmapTableEntry(reader[index]);
            if (entry.Offset != 0 && entry.Offset >= (ulong)length)
                throw Qcow2FormatException.ForField(string.Create(CultureInfo.InvariantCulture,
                    $"Bitmap '{bitmap.Name}' is broken: its table entry {index} points to a data cluster past the end of the file; repair the image (Qcow2Image.Check with Qcow2CheckRepair.All)"),
                    "BitmapTableEntry", bitmap.TableOffset + index * sizeof(ulong), "0x" + entry.Value.ToString("X16", CultureInfo.InvariantCulture),
                    string.Create(CultureInfo.InvariantCulture, $"points past the end of the file ({length} bytes)"));
        }
    }

    private static void ThrowIfInconsistent(Qcow2Bitmap bitmap)
    {
        if (bitmap.InUse)
            throw new Qcow2FormatException($"Bitmap '{bitmap.Name}' is inconsistent and cannot be used (its in_use flag is set, so its data may be stale; it can only be removed)",
                FlagsField, bitmap.Entry.Flags.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The target's clusters with the source's dirty ranges ORed in; untouched clusters keep their entry.</summary>
    private sealed class MergedContent(IImageStorage storage, Qcow2Bitmap target, int clusterSize, IEnumerator<Qcow2GuestRange> source) : BitmapContent
    {
        private readonly EntryTableReader reader = EntryTableReader.ForBitmap(storage, target);
        private Qcow2GuestRange? pending;
        private bool sourceDone;

        public override ulong? Produce(long index, Span<byte> cluster)
        {
            var granularity = target.Granularity;
            var bitsPerCluster = (long)clusterSize * 8;
            var clusterStart = index * bitsPerCluster * granularity;
            var clusterEnd = (index + 1) * bitsPerCluster * granularity;
            var value = reader[index];
            var entry = new BitmapTableEntry(value);
            var loaded = false;
            while (Peek() is { } range && range.Start < clusterEnd)
            {
                if (range.End > clusterStart)
                {
                    if (!loaded)
                    {
                        if (entry.Offset != 0)
                            storage.Read((long)entry.Offset, cluster);
                        else if (value == BitmapTableEntry.AllOnesFlag)
                            cluster.Fill(0xFF);
                        loaded = true;
                    }
                    var first = Math.Max(range.Start, clusterStart) / granularity - index * bitsPerCluster;
                    var end = (Math.Min(range.End, clusterEnd) + granularity - 1) / granularity - index * bitsPerCluster;
                    BitmapBits.SetRange(cluster, first, end);
                }
                if (range.End > clusterEnd)
                    break;
                pending = null;
            }
            return loaded ? null : value;
        }

        private Qcow2GuestRange? Peek()
        {
            if (pending is null && !sourceDone)
            {
                if (source.MoveNext())
                    pending = source.Current;
                else
                    sourceDone = true;
            }
            return pending;
        }
    }
}
