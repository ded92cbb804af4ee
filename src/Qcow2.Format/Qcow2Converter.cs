namespace Qcow2;

/// <summary>Copies guest data between disks, as <c>qemu-img convert</c> does.</summary>
public static class Qcow2Converter
{
    /// <summary>
    /// Copies the guest data of <paramref name="source"/> onto <paramref name="target"/> (writable, at least as large): data
    /// the source allocates is written unless it is zeros the target already reads, and ranges that read as zeros in the
    /// source are made zeros in the target only where it does not read zeros already. Then the target is flushed, unless
    /// <see cref="Qcow2CopyOptions.FlushTarget"/> is false.
    /// </summary>
    /// <exception cref="ArgumentException">The target is read-only or smaller than the source, or bitmaps are asked of a raw disk.</exception>
    /// <exception cref="Qcow2FormatException">A mapping is corrupt, or a bitmap to copy is inconsistent (in use).</exception>
    /// <exception cref="InvalidOperationException">A needed backing or data file was not opened.</exception>
    /// <exception cref="IOException">A write failed; the message names the guest byte, as qemu-img's (<c>error while writing at byte N: ...</c>).</exception>
    public static void Copy(Qcow2VirtualDisk source, Qcow2VirtualDisk target, Qcow2CopyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        options ??= new Qcow2CopyOptions();
        if (!target.IsWritable)
            throw new ArgumentException("The target disk is read-only.", nameof(target));
        if (target.Length < source.Length)
            throw new ArgumentException($"The target disk ({target.Length} bytes) is smaller than the source ({source.Length} bytes).", nameof(target));
        if (options.CopyBitmaps && (source.Image is null || target.Image is null))
            throw new ArgumentException("Bitmaps can be copied only from a qcow2 image to a qcow2 image.", nameof(options));
        if (options.Compress && (target.Image is null || target.Image.DataFileName is not null))
            throw new ArgumentException("Compression needs a qcow2 target without an external data file.", nameof(options));
        if (options.CopyBitmaps)
        {
            foreach (var bitmap in source.Image!.Bitmaps.Where(b => b.InUse))
                throw new Qcow2FormatException($"Cannot copy inconsistent bitmap '{bitmap.Name}'", "Qcow2Bitmap.Flags", "in-use");
        }
        if (options.Compress)
            new CompressedCopier(source, target, options).Copy();
        else
            new DiskCopier(source, target, options).Copy([new Qcow2GuestRange(0, source.Length)]);
        if (options.CopyBitmaps)
        {
            foreach (var bitmap in source.Image!.Bitmaps)
            {
                target.Image!.AddBitmap(bitmap.Name, bitmap.Granularity, enabled: true);
                target.Image.MergeBitmap(bitmap.Name, source.Image, bitmap.Name);
                if (!bitmap.Enabled)
                    target.Image.DisableBitmap(bitmap.Name);
            }
        }
        if (options.FlushTarget)
            target.Flush();
    }

    /// <summary>
    /// What a qcow2 image made with <paramref name="options"/> needs, as <c>qemu-img measure -O qcow2</c> computes it: for
    /// <paramref name="source"/> when given (its data clusters; every cluster when the options name a backing file), else for an
    /// empty image of <paramref name="size"/> bytes.
    /// </summary>
    /// <exception cref="ArgumentException">The cluster size is not one QEMU allows, or the size needs a larger L1 table than QEMU allows.</exception>
    public static Qcow2MeasureResult Measure(Qcow2VirtualDisk? source, long size, Qcow2CreateOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        options ??= new Qcow2CreateOptions();
        ImageCreator.ValidateClusterSize(options);
        return ImageMeasure.Qcow2(source, size, options);
    }
}
