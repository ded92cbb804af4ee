using Microsoft.Win32.SafeHandles;

namespace Qcow2;

/// <summary>
/// A virtual disk that the data operations (<see cref="Compare"/>, conversion, backup) read: a qcow2 image through
/// the backing chain and data file it was opened with, or a raw disk file. The disk does not own what it wraps.
/// </summary>
public sealed class Qcow2VirtualDisk : IDisposable
{
    private readonly Qcow2Image? image;
    private readonly Stream? raw;

    // A raw file's handle, taken once: FileStream.SafeFileHandle seeks the handle to the stream's position on every call.
    private readonly SafeFileHandle? rawFile;
    private readonly Lock rawGate = new();
    private readonly IDisposable? owned;
    private readonly bool rawReadsZero;

    private Qcow2VirtualDisk(Qcow2Image? image, Stream? raw, IDisposable? owned = null, bool rawReadsZero = false)
    {
        this.image = image;
        this.raw = raw;
        rawFile = (raw as FileStream)?.SafeFileHandle;
        this.owned = owned;
        this.rawReadsZero = rawReadsZero;
    }

    /// <summary>A disk that disposes the image or stream it wraps (one the library opened itself).</summary>
    internal static Qcow2VirtualDisk Owning(Qcow2Image image) => new(image, null, image);

    /// <inheritdoc cref="Owning(Qcow2Image)"/>
    internal static Qcow2VirtualDisk Owning(FileStream raw) => new(null, raw, raw);

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

    /// <summary>
    /// Creates (or truncates) a raw disk file of <paramref name="length"/> bytes, sparse but for its first block (written with
    /// zeros, as QEMU's file driver does), and returns it writable; disposing the disk closes the file.
    /// </summary>
    public static Qcow2VirtualDisk CreateRaw(string path, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        // Created and sized through a handle of its own, as qemu-img does: ext4 marks a file truncated to zero length
        // (FileMode.Create truncates) and writes back all its data when that handle closes, which took as long as the copy.
        using (var created = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 1))
        {
            created.SetLength(length);
            // QEMU's file driver writes the first block of a file it creates (zeros), to probe the alignment of direct I/O
            // later; qemu-img map then shows it as data, and so does ours.
            var first = (int)Math.Min(length, length < 4096 ? 512 : 4096);
            if (first > 0)
                RandomAccess.Write(created.SafeFileHandle, new byte[first], 0);
        }
        var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.RandomAccess);
        return new Qcow2VirtualDisk(null, stream, stream, rawReadsZero: true);
    }

    /// <summary>Closes the file of a disk made by <see cref="CreateRaw"/>; other disks do not own what they wrap.</summary>
    public void Dispose() => owned?.Dispose();

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
        if (rawFile is not null)
        {
            ReadExactly(rawFile, offset, buffer);
            return;
        }
        lock (rawGate)
        {
            raw!.Position = offset;
            raw.ReadExactly(buffer);
        }
    }

    /// <summary>
    /// The allocation of a range (<see cref="Qcow2Image.GetAllocation"/>); a raw disk is data, except the holes of a sparse file
    /// (on Linux), which read as zeros and are reported as <see cref="Qcow2ExtentKind.Zero"/>.
    /// </summary>
    public IEnumerable<Qcow2Extent> GetAllocation(long offset, long length) =>
        image is not null ? image.GetAllocation(offset, length)
        : rawFile is not null ? RawAllocation(rawFile, offset, length)
        : [new Qcow2Extent(offset, length, Qcow2ExtentKind.Data, false, offset, 0)];

    private static IEnumerable<Qcow2Extent> RawAllocation(SafeFileHandle file, long offset, long length)
    {
        var end = offset + length;
        foreach (var (start, count) in FileHoles.DataRuns(file, offset, length))
        {
            if (start > offset)
                yield return new Qcow2Extent(offset, start - offset, Qcow2ExtentKind.Zero, false, null, 0);
            yield return new Qcow2Extent(start, count, Qcow2ExtentKind.Data, false, start, 0);
            offset = start + count;
        }
        if (offset < end)
            yield return new Qcow2Extent(offset, end - offset, Qcow2ExtentKind.Zero, false, null, 0);
    }

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

    /// <summary>Whether the disk can be written (<see cref="Qcow2Image.IsWritable"/>, or a writable raw stream).</summary>
    public bool IsWritable => image?.IsWritable ?? raw!.CanWrite;

    /// <summary>Whether this disk can be read while <paramref name="other"/> is written: they share no image and no stream.</summary>
    internal bool IsIndependentOf(Qcow2VirtualDisk other)
    {
        if (raw is not null)
            return !ReferenceEquals(raw, other.raw);
        for (var layer = image; layer is not null; layer = layer.BackingImage)
        {
            if (ReferenceEquals(layer, other.image))
                return false;
        }
        return true;
    }

    internal void Write(long offset, ReadOnlySpan<byte> data)
    {
        if (image is not null)
        {
            image.Write(offset, data);
            return;
        }
        if (rawFile is not null)
        {
            RandomAccess.Write(rawFile, data, offset);
            return;
        }
        lock (rawGate)
        {
            raw!.Position = offset;
            raw.Write(data);
        }
    }

    /// <summary>Writes several ranges (not overlapping); a qcow2 image allocates for all of them at once.</summary>
    internal void WriteRanges(IReadOnlyList<(long Offset, ReadOnlyMemory<byte> Data)> ranges)
    {
        if (image is not null)
        {
            image.WriteRanges(ranges);
            return;
        }
        foreach (var (offset, data) in ranges)
            Write(offset, data.Span);
    }

    internal void WriteZeroes(long offset, long length, bool unmap = false)
    {
        if (image is not null)
        {
            image.WriteZeroes(offset, length, unmap);
            return;
        }
        // A raw file's zeros become a hole where the file system allows, as QEMU writes them (and the file stays sparse).
        if (rawFile is not null && FileHoles.TryPunchHole(rawFile, offset, length))
            return;
        var zeros = new byte[(int)Math.Min(length, 1 << 20)];
        for (var end = offset + length; offset < end; offset += zeros.Length)
            Write(offset, zeros.AsSpan(0, (int)Math.Min(zeros.Length, end - offset)));
    }

    /// <summary>Whether the range is known to read as zeros without reading it (a raw disk only when freshly created).</summary>
    internal bool ReadsZero(long offset, long length) =>
        image is not null ? image.GetAllocation(offset, length).All(e => e.Kind != Qcow2ExtentKind.Data) : rawReadsZero;

    internal void Flush()
    {
        if (image is not null)
            image.Flush();
        else if (raw is FileStream file)
            file.Flush(flushToDisk: true);
        else
            raw!.Flush();
    }

    private static void ReadExactly(SafeFileHandle file, long offset, Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var read = RandomAccess.Read(file, buffer, offset);
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
