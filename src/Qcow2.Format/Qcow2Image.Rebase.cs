using System.Text;

namespace Qcow2;

public sealed partial class Qcow2Image
{
    /// <summary>
    /// Names another backing file, or none, without looking at any data (<c>qemu-img rebase -u</c>): the backing file name and
    /// the backing format extension are rewritten with one write of cluster 0, so a crash leaves the old or the new header.
    /// The guest then sees the new backing file's data wherever this image has none of its own.
    /// </summary>
    /// <param name="name">The backing file name as it is to be stored (relative names are resolved against this image's folder), or null for none.</param>
    /// <param name="format">The backing format (<c>qcow2</c>, <c>raw</c>…); required with a name, as in QEMU 7.2, and ignored without one.</param>
    /// <exception cref="ArgumentException">A name without a format, or a name or format QEMU could not store.</exception>
    /// <exception cref="InvalidOperationException">The image is read-only.</exception>
    /// <exception cref="Qcow2FormatException">The new name does not fit in cluster 0; the file is left as it was.</exception>
    public void SetBackingFile(string? name, string? format)
    {
        if (name is not null)
        {
            if (string.IsNullOrEmpty(format))
                throw new ArgumentException("backing format must be specified", nameof(format));
            if (name.Length == 0 || name.Contains('\0') || Encoding.UTF8.GetByteCount(name) > Limits.MaxNameSize)
                throw new ArgumentException($"The backing file name must be 1 to {Limits.MaxNameSize} bytes without NUL characters.", nameof(name));
            if (format.Contains('\0') || Encoding.UTF8.GetByteCount(format) > Limits.MaxBackingFormatLength)
                throw new ArgumentException($"The backing format must be at most {Limits.MaxBackingFormatLength} bytes without NUL characters.", nameof(format));
        }
        EnsureWritable();
        var (previousName, previousFormat) = (image.BackingFileName, image.BackingFormat);
        (image.BackingFileName, image.BackingFormat) = name is null ? (null, null) : (name, format);
        try
        {
            UpdateHeader();
        }
        catch
        {
            (image.BackingFileName, image.BackingFormat) = (previousName, previousFormat);
            throw;
        }
    }

    /// <summary>
    /// Puts this image on another backing file while the guest keeps seeing the same data (<c>qemu-img rebase</c> in safe mode):
    /// wherever this image has no data of its own and the old backing chain (opened with <see cref="Qcow2OpenOptions.OpenBackingChain"/>)
    /// reads differently from <paramref name="newBacking"/>, the old data is written into this image; then the header names
    /// the new backing file (<see cref="SetBackingFile"/>). The data is flushed before the header changes, so a crash leaves
    /// the image on its old backing file with the same guest data.
    /// </summary>
    /// <param name="newBacking">The new backing disk, opened by the caller (zeros past its end), or null to read zeros (no backing file).</param>
    /// <param name="name">The new backing file name as stored, or null for none.</param>
    /// <param name="format">The new backing format; required with a name.</param>
    /// <param name="progress">Reports the fraction done, from 0 to 1.</param>
    /// <param name="cancellationToken">Stops between blocks, before the header changes: the image keeps its old backing file and its guest data.</param>
    /// <exception cref="ArgumentException">A name without a format, or a name or format QEMU could not store.</exception>
    /// <exception cref="InvalidOperationException">The image is read-only, or it has a backing file that was not opened.</exception>
    /// <exception cref="Qcow2FormatException">A mapping is corrupt, or the new name does not fit in cluster 0.</exception>
    public void Rebase(Qcow2VirtualDisk? newBacking, string? name, string? format, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        if (name is not null && string.IsNullOrEmpty(format))
            throw new ArgumentException("backing format must be specified", nameof(format));
        EnsureWritable();
        if (BackingFileName is not null && backingImage is null)
            throw new InvalidOperationException($"The old backing file '{BackingFileName}' was not opened (Qcow2OpenOptions.OpenBackingChain); safe rebase reads it.");
        new BackingRebase(this, newBacking, progress, cancellationToken).CopyDifferences();
        Flush();
        SetBackingFile(name, format);
    }
}
