using System.Globalization;

namespace Qcow2;

public sealed partial class Qcow2Image
{
    /// <summary>
    /// Changes the virtual size, as <c>qemu-img resize</c> does (spec §7). Growing grows the L1 table if needed (new table,
    /// then one 12-byte header switch) and writes the new size last; shrinking writes the new size first, then unmaps every
    /// cluster past the new end (l1_size is kept, as QEMU keeps it) and truncates the file after the last used cluster.
    /// Data below the new size is never touched; after a shrink and a later grow the area past the old end reads as zeros,
    /// including the unused tail of a last cluster that is not fully covered (zeroed in place, or copied when it is compressed
    /// with zlib or shared with a snapshot; encrypted and zstd clusters are left as QEMU leaves them). Consistent persistent bitmaps are resized too:
    /// new tables of exactly the new size are written to new clusters first, and the new size and the new bitmaps extension
    /// are switched by one header write (QEMU refuses an image whose consistent bitmaps do not match its size). Every write
    /// is ordered so that a crash leaves an image that opens, has the old or the new size (with the matching bitmaps),
    /// keeps its data, and has at worst leaked clusters.
    /// </summary>
    /// <remarks>
    /// Growing a v3 image with a backing file marks the new area as zero clusters, as QEMU does when the backing file is
    /// longer than the image (the backing file is never opened to compare). L2 tables shared with internal snapshots are
    /// copied before they are changed, so snapshots keep their data.
    /// </remarks>
    /// <param name="newSize">The new virtual size in bytes: positive and a multiple of 512.</param>
    /// <param name="options">Shrink permission and preallocation; null for the defaults (grow only, no preallocation).</param>
    /// <exception cref="ArgumentException">
    /// The size or the options are refused, with QEMU's words where QEMU refuses too: "New image size must be positive", "The
    /// new size must be a multiple of 512", "Preallocation can only be used for growing images", "Failed to grow the L1 table:
    /// File too large"; a shrink without <see cref="Qcow2ResizeOptions.AllowShrink"/> (parameter <c>options.AllowShrink</c>).
    /// </exception>
    /// <exception cref="Qcow2FormatException">
    /// The image cannot be resized, with QEMU's message where QEMU refuses too: "Can't resize a v2 image which has snapshots",
    /// "Bitmap 'NAME' is inconsistent and cannot be used". Also refused here: images with an external data file (it is never opened); growing a v2
    /// image with a backing file, or one whose partly covered last cluster reads from the backing file (the backing file's
    /// data could show through past the old end, and it is never opened); metadata preallocation of an encrypted image.
    /// </exception>
    /// <exception cref="InvalidOperationException">The image is read-only.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="Qcow2ResizeOptions.Preallocation"/> is not a defined mode.</exception>
    public void Resize(long newSize, Qcow2ResizeOptions? options = null)
    {
        EnsureWritable();
        options ??= new Qcow2ResizeOptions();
        if (!Enum.IsDefined(options.Preallocation))
            throw new ArgumentOutOfRangeException(nameof(options), options.Preallocation, "Unsupported preallocation mode");
        var oldSize = VirtualSize;
        ValidateResize(newSize, oldSize, options);
        if (newSize == oldSize)
            return;

        // Phase 1 of the bitmap change: every consistent bitmap gets a table of exactly the new size, in new clusters.
        // It runs before our own allocator reads the refcounts, so the two never hold different views of them.
        var bitmaps = Bitmaps.Count > 0 ? new BitmapDirectoryWriter(this).PrepareResized((ulong)newSize) : null;
        if (newSize > oldSize)
        {
            try
            {
                new ImageResize(storage, image).PrepareGrow((ulong)oldSize, (ulong)newSize, options.Preallocation);
            }
            catch
            {
                bitmaps?.Discard();
                throw;
            }
            CommitSize((ulong)newSize, bitmaps);
        }
        else
        {
            CommitSize((ulong)newSize, bitmaps);
            new ImageResize(storage, image).FinishShrink((ulong)newSize);
            ImageResize.TrimFile(storage, image);
        }
    }

    /// <summary>
    /// Switches to the new size: without bitmaps one 8-byte write at 24; with bitmaps one <see cref="UpdateHeader"/>, since a
    /// consistent bitmap whose table does not match the size makes QEMU refuse the image, the size and the bitmaps extension
    /// (both in cluster 0) must change in the same write. Then the old bitmap clusters are freed.
    /// </summary>
    private void CommitSize(ulong newSize, PreparedBitmapDirectory? bitmaps)
    {
        if (bitmaps is not { HasChanges: true })
        {
            WriteVirtualSize(newSize);
            return;
        }
        var previous = image.Header.VirtualSize;
        image.Header.VirtualSize = newSize;
        bitmaps.ApplyToMetadata();
        try
        {
            UpdateHeader();
        }
        catch (Qcow2FormatException)
        {
            // The header did not fit: nothing was written, the old size and bitmaps are still in force.
            image.Header.VirtualSize = previous;
            bitmaps.Discard();
            throw;
        }
        bitmaps.FreeOldClusters();
    }

    private void ValidateResize(long newSize, long oldSize, Qcow2ResizeOptions options)
    {
        string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
        if (newSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(newSize), "New image size must be positive");
        if (newSize < oldSize && !options.AllowShrink)
            throw new ArgumentException($"The new size {Text(newSize)} is smaller than the current size {Text(oldSize)}: set Qcow2ResizeOptions.AllowShrink to shrink", "options.AllowShrink");
        if (newSize < oldSize && options.Preallocation != Qcow2Preallocation.Off)
            throw new ArgumentException("Preallocation can only be used for growing images", "options.Preallocation");
        if (newSize % 512 != 0)
            throw new ArgumentException("The new size must be a multiple of 512", nameof(newSize));
        if (newSize > Limits.MaxVirtualSize)
            throw new ArgumentOutOfRangeException(nameof(newSize), $"offset({Text(newSize)}) exceeds maximum({Text(Limits.MaxVirtualSize)})");
        if (new L1L2Geometry(ClusterBits, ExtendedL2).RequiredL1Entries((ulong)newSize) > Limits.MaxL1Entries)
            throw new ArgumentOutOfRangeException(nameof(newSize), $"Failed to grow the L1 table: File too large (a virtual size of {Text(newSize)} bytes needs more than {Limits.MaxL1Entries} L1 entries with {ClusterSize}-byte clusters)");
        if (Version < 3 && Snapshots.Count > 0)
            throw new Qcow2FormatException("Can't resize a v2 image which has snapshots", nameof(Qcow2Header) + ".NbSnapshots", Text(Snapshots.Count));
        if ((image.Header.IncompatibleFeatures & Features.ExternalDataFile) != 0)
            throw new Qcow2FormatException("Cannot resize an image with an external data file: the data file is never opened, so it cannot be resized with it",
                nameof(Qcow2Header) + ".IncompatibleFeatures", "external data file bit set");
        foreach (var bitmap in Bitmaps)
        {
            if (bitmap.InUse)
                throw new Qcow2FormatException($"Bitmap '{bitmap.Name}' is inconsistent and cannot be used (its in_use flag is set; remove it first)",
                    "BitmapDirectoryEntry.Flags", bitmap.Name);
        }
        if (newSize == oldSize)
            return;
        if (newSize > oldSize && BackingFileName is not null && new ImageResize(storage, image).WhyBackingGrowIsUnsafe((ulong)oldSize) is { } why)
            throw new Qcow2FormatException($"Cannot grow this image with a backing file: {why}; the backing file is never opened, so its data past the old end could show through",
                "BackingFileName", BackingFileName);
        if (newSize > oldSize && options.Preallocation != Qcow2Preallocation.Off && EncryptionMethod != Qcow2EncryptionMethod.None)
            throw new Qcow2FormatException("Metadata preallocation of an encrypted image is not supported: zeroed clusters would not decrypt to zeros",
                nameof(Qcow2Header) + ".CryptMethod", Text((long)image.Header.CryptMethod));
    }

    private void WriteVirtualSize(ulong size) => HeaderFieldUpdates.WriteVirtualSize(storage, image, size);
}
