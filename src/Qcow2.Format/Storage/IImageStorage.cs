namespace Qcow2;

/// <summary>
/// Positional I/O on the image file. Everything the library reads or writes goes through this one interface, so that
/// fault-injection wrappers can sit on top of it.
/// </summary>
internal interface IImageStorage : IDisposable
{
    /// <summary>The current length of the file in bytes.</summary>
    long Length { get; }

    /// <summary>Whether <see cref="Write"/>, <see cref="Flush"/> and <see cref="SetLength"/> are allowed.</summary>
    bool CanWrite { get; }

    /// <summary>Whether <see cref="Read"/> may be called from several threads at once (positional reads on one handle).</summary>
    bool SupportsConcurrentReads => false;

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/>; bytes past the end of the file read as zeros (as in QEMU).</summary>
    void Read(long offset, Span<byte> buffer);

    /// <summary>The asynchronous <see cref="Read"/>; storage without asynchronous I/O reads synchronously.</summary>
    ValueTask ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Read(offset, buffer.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>, extending the file if needed.</summary>
    void Write(long offset, ReadOnlySpan<byte> data);

    /// <summary>Makes the writes so far durable.</summary>
    void Flush();

    /// <summary>
    /// Starts writing a range to the disk without waiting, so that the next <see cref="Flush"/> has less left to wait for
    /// (the default does nothing; so does storage that does not flush).
    /// </summary>
    void StartWriteback(long offset, long length)
    {
    }

    /// <summary>Truncates or extends the file.</summary>
    void SetLength(long length);

    /// <summary>
    /// Gives the bytes of a range nothing refers to any more back to the file system, keeping the file's length; they read as
    /// zeros afterwards, or keep their old contents where the storage has no holes (the default does nothing).
    /// </summary>
    void PunchHole(long offset, long length)
    {
    }

    /// <summary>
    /// The runs of [offset, offset + length) that hold data in the file, in order, each (start, length); the rest are holes, or
    /// lie past the end of the file, and read as zeros. Storage that cannot tell reports the whole range as data.
    /// </summary>
    IEnumerable<(long Start, long Length)> DataRuns(long offset, long length) => [(offset, length)];

    /// <summary>The bytes the file occupies on disk (<c>st_blocks * 512</c>), or null where that is not known.</summary>
    long? AllocatedBytes => null;
}
