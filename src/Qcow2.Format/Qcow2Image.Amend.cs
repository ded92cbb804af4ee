using System.Globalization;

namespace Qcow2;

public sealed partial class Qcow2Image
{
    /// <summary>
    /// Changes the format version, as <c>qemu-img amend -o compat=…</c> does, with one rewrite of cluster 0 (so a crash leaves
    /// the old or the new version). Upgrading to 3 (compat 1.1) adds the v3 header fields. Downgrading to 2 (compat 0.10)
    /// clears the compatible features (lazy refcounts; a dirty image was already repaired when it was opened writable), after
    /// expanding zero clusters, which version 2 cannot express, as QEMU does: a plain zero cluster becomes unallocated (or a
    /// new zero-filled cluster when there is a backing file), a preallocated one is zero-filled. Each L2 table is rewritten
    /// with one write after its new clusters are in place, so a crash during the expansion leaves a version 3 image reading
    /// the same, with at worst leaks.
    /// </summary>
    /// <remarks>
    /// Refused where QEMU 7.2 refuses: refcount widths other than 16 bits, an external data file, extended L2 entries or any
    /// other incompatible feature. Also refused here, where QEMU 7.2 loses data: persistent bitmaps (QEMU drops them silently),
    /// and a compression type other than zlib (a v2 reader would decode zstd clusters as zlib). Where QEMU 7.2 zero-fills a
    /// preallocated zero cluster that a snapshot still reads as data (destroying the snapshot's data), this gives the entry
    /// a new cluster instead.
    /// </remarks>
    /// <param name="version">2 or 3.</param>
    /// <exception cref="ArgumentOutOfRangeException">The version is not 2 or 3.</exception>
    /// <exception cref="InvalidOperationException">The image is read-only, or the downgrade is refused (the message says why).</exception>
    /// <exception cref="Qcow2FormatException">An L1 or L2 table or the refcounts of the image are damaged.</exception>
    public void SetVersion(int version)
    {
        if (version is not (2 or 3))
            throw new ArgumentOutOfRangeException(nameof(version), version, "Only versions 2 (compat 0.10) and 3 (compat 1.1) exist");
        EnsureWritable();
        if (version == Version)
            return;
        var previous = image.Header;
        if (version == 2)
        {
            EnsureDowngradable();
            new ZeroClusterExpansion(storage, image).Run(hasBackingFile: BackingFileName is not null);
        }
        image.Header.Version = (uint)version;
        if (version == 2)
        {
            image.Header.CompatibleFeatures = 0;
            image.Header.AutoclearFeatures = 0;
            image.Header.IncompatibleFeatures = 0;
        }
        try
        {
            UpdateHeader();
        }
        catch
        {
            image.Header = previous;
            throw;
        }
    }

    /// <summary>
    /// Changes the refcount width, as <c>qemu-img amend -o refcount_bits=…</c> does: the refcount table and blocks are
    /// rewritten at the new width in new clusters while the old ones stay in force, one rewrite of cluster 0 switches to them,
    /// and the old ones are freed afterwards. A crash leaves the old or the new width, with at worst leaked clusters.
    /// </summary>
    /// <param name="bits">A power of two from 1 to 64.</param>
    /// <exception cref="ArgumentOutOfRangeException">The width is not a power of two from 1 to 64.</exception>
    /// <exception cref="InvalidOperationException">
    /// The image is read-only or version 2 (which has 16-bit refcounts only), or a refcount does not fit the new width (the
    /// message names the first such cluster, as qemu-img's does); nothing is changed then.
    /// </exception>
    /// <exception cref="Qcow2FormatException">The refcount table is damaged.</exception>
    public void SetRefcountBits(int bits)
    {
        if (bits is < 1 or > 64 || !int.IsPow2(bits))
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "Refcount width must be a power of two and may not exceed 64 bits");
        EnsureWritable();
        if (bits == RefcountBits)
            return;
        if (Version < 3)
            throw new InvalidOperationException("Refcount widths other than 16 bits require compatibility level 1.1 or above (use compat=1.1 or greater)");
        RefcountWidthChange.Run(storage, image, int.Log2(bits), UpdateHeader);
    }

    private void EnsureDowngradable()
    {
        if (RefcountBits != 16)
            throw new InvalidOperationException("compat=0.10 requires refcount_bits=16");
        if (image.HasExternalDataFile)
            throw new InvalidOperationException("Cannot downgrade an image with a data file");
        var incompatible = image.Header.IncompatibleFeatures & ~Features.CompressionType;
        if (incompatible != 0)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Cannot downgrade an image with incompatible features 0x{incompatible:x} set"));
        if (CompressionType != Qcow2CompressionType.Zlib)
            throw new InvalidOperationException("Cannot downgrade an image whose compression type is not zlib: version 2 has no compression type, so its compressed clusters would be read as zlib");
        if (image.BitmapsExtension is not null || Bitmaps.Count > 0)
            throw new InvalidOperationException("Cannot downgrade an image with persistent bitmaps: version 2 cannot store them (remove them first)");
    }
}
