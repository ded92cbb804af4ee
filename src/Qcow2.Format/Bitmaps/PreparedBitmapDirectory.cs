namespace Qcow2;

/// <summary>The result of <see cref="BitmapDirectoryWriter.Prepare"/>: the new directory, written but not yet in force.</summary>
internal sealed class PreparedBitmapDirectory
{
    private readonly Qcow2Image owner;
    private readonly List<(long Offset, long Count)> oldClusters;
    private readonly List<(long Offset, long Count)> newClusters;
    private (BitmapsExtensionData? Extension, IReadOnlyList<Qcow2Bitmap> Bitmaps, ulong Autoclear)? saved;
    private bool freed;

    internal PreparedBitmapDirectory(Qcow2Image owner, BitmapsExtensionData? extension, IReadOnlyList<Qcow2Bitmap> bitmaps,
        List<(long Offset, long Count)> oldClusters, List<(long Offset, long Count)> newClusters, bool hasChanges)
    {
        this.owner = owner;
        Extension = extension;
        Bitmaps = bitmaps;
        this.oldClusters = oldClusters;
        this.newClusters = newClusters;
        HasChanges = hasChanges;
    }

    /// <summary>The new bitmaps extension, or null when no bitmap remains.</summary>
    public BitmapsExtensionData? Extension { get; }

    /// <summary>The new bitmaps, in directory order, with their new entry offsets.</summary>
    public IReadOnlyList<Qcow2Bitmap> Bitmaps { get; }

    /// <summary>False when there were no bitmaps before and there are none after: nothing to switch.</summary>
    public bool HasChanges { get; }

    /// <summary>Runs of clusters (byte offset, cluster count) of the old directory, tables and data that the switch makes unused.</summary>
    public IReadOnlyList<(long Offset, long Count)> OldClusters => oldClusters;

    /// <summary>
    /// Phase 2, part 1: puts the new directory into the in-memory metadata (extension, bitmaps, autoclear bit 0 set when
    /// bitmaps exist, cleared when none remain, as QEMU does) without writing. The next <see cref="Qcow2Image.UpdateHeader"/>
    /// switches to it. <see cref="RevertMetadata"/> undoes it if that header write cannot be made.
    /// </summary>
    public void ApplyToMetadata()
    {
        if (!HasChanges)
            return;
        var metadata = owner.Metadata;
        saved ??= (metadata.BitmapsExtension, metadata.Bitmaps, metadata.Header.AutoclearFeatures);
        metadata.BitmapsExtension = Extension;
        metadata.Bitmaps = Bitmaps;
        metadata.Header.AutoclearFeatures = Extension is null
            ? metadata.Header.AutoclearFeatures & ~Features.Bitmaps
            : metadata.Header.AutoclearFeatures | Features.Bitmaps;
    }

    /// <summary>Restores the metadata <see cref="ApplyToMetadata"/> replaced (for a header write that failed before writing).</summary>
    public void RevertMetadata()
    {
        if (saved is not { } old)
            return;
        var metadata = owner.Metadata;
        metadata.BitmapsExtension = old.Extension;
        metadata.Bitmaps = old.Bitmaps;
        metadata.Header.AutoclearFeatures = old.Autoclear;
        saved = null;
    }

    /// <summary>Phase 2, part 3, after the header write: frees the old directory, tables and data clusters (never throws for them; at worst they leak).</summary>
    public void FreeOldClusters()
    {
        if (freed)
            return;
        freed = true;
        BitmapDirectoryWriter.FreeQuietly(owner.Storage, owner.Metadata, oldClusters);
        owner.Storage.Flush();
    }

    /// <summary>Abandons a prepared directory that will never be switched to: frees its new clusters.</summary>
    public void Discard()
    {
        RevertMetadata();
        BitmapDirectoryWriter.FreeQuietly(owner.Storage, owner.Metadata, newClusters);
        owner.Storage.Flush();
    }

    /// <summary>All of phase 2: metadata, one header write, then freeing the old clusters.</summary>
    public void Commit()
    {
        if (!HasChanges)
            return;
        ApplyToMetadata();
        try
        {
            owner.UpdateHeader();
        }
        catch (Qcow2FormatException)
        {
            // The header did not fit: nothing was written, the old set is still in force.
            Discard();
            throw;
        }
        FreeOldClusters();
    }
}
