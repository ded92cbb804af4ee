namespace Qcow2;

/// <summary>
/// A virtual disk that the data operations (<see cref="Compare"/>, conversion, backup) read: a qcow2 image through
/// the backing chain and data file it was opened with, or a raw disk file. The disk does not own what it wraps.
/// </summary>
public sealed class Qcow2VirtualDisk
{
    private readonly Qcow2Image? image;
    private readonly Stream? raw;
    private readonly Lock rawGate = new();

    private Qcow2VirtualDisk(Qcow2Image? image, Stream? raw)
    {
        this.image = image;
        this.raw = raw;
    }

    /// <summary>The guest disk of <paramref name="image"/>; ranges its backing file holds need the chain opened (<see cref="Qcow2OpenOptions.OpenBackingChain"/>).</summary>
    public static Qcow2VirtualDisk FromImage(Qcow2Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new Qcow2VirtualDisk(image, null);
    }

    /// <summary>A raw disk: the bytes of a readable, seekable stream (a <see cref="FileStream"/> is read with positional I/O).</summary>
    /// <exception cref="ArgumentException">The stream cannot read or seek.</exception>
    public static Qcow2VirtualDisk FromRaw(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead || !stream.CanSeek)
            throw new ArgumentException("A raw disk needs a readable, seekable stream.", nameof(stream));
        return new Qcow2VirtualDisk(null, stream);
    }

    /// <summary>The qcow2 image, or null for a raw disk.</summary>
    public Qcow2Image? Image => image;

    /// <summary>The size of the disk in bytes.</summary>
    public long Length => image?.VirtualSize ?? raw!.Length;

    /// <summary>Reads <paramref name="buffer"/>.Length bytes at <paramref name="offset"/>, which must lie inside the disk.</summary>
    public void Read(long offset, Span<byte> buffer)
    {
        if (image is not null)
        {
            image.Read(offset, buffer);
            return;
        }
        if (raw is FileStream file)
        {
            ReadExactly(file, offset, buffer);
            return;
        }
        lock (rawGate)
        {
            raw!.Position = offset;
            raw.ReadExactly(buffer);
        }
    }

    /// <summary>
    /// The allocation of a range (<see cref="Qcow2Image.GetAllocation"/>); a raw disk is data throughout, except the part past
    /// the end of its file, which reads as zeros.
    /// </summary>
    public IEnumerable<Qcow2Extent> GetAllocation(long offset, long length) =>
        image is not null ? image.GetAllocation(offset, length) : [new Qcow2Extent(offset, length, Qcow2ExtentKind.Data, false, offset, 0)];

    /// <summary>
    /// Compares the guest data of two disks as <c>qemu-img compare</c> does: the common part byte by byte, then the rest of the
    /// larger disk, which must read as zeros. With <paramref name="strict"/>, disks of different sizes differ, and so do ranges
    /// whose allocation differs (QEMU's block status), even where the bytes agree.
    /// </summary>
    /// <exception cref="InvalidOperationException">A needed backing or data file was not opened.</exception>
    /// <exception cref="Qcow2FormatException">A mapping is corrupt.</exception>
    public Qcow2CompareResult Compare(Qcow2VirtualDisk other, bool strict = false, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new DiskComparer(this, other, progress, cancellationToken).Run(strict);
    }

    private static void ReadExactly(FileStream file, long offset, Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var read = RandomAccess.Read(file.SafeFileHandle, buffer, offset);
            if (read == 0)
            {
                // Past the end of the file a raw disk reads as zeros (the stream's length is the disk's length).
                buffer.Clear();
                return;
            }
            buffer = buffer[read..];
            offset += read;
        }
    }
}
