namespace Qcow2;

/// <summary><see cref="IImageStorage"/> over a seekable <see cref="Stream"/>.</summary>
internal sealed class StreamStorage : IImageStorage
{
    private readonly Stream stream;
    private readonly bool leaveOpen;
    private readonly Lock positionLock = new();

    public StreamStorage(Stream stream, bool writable, bool leaveOpen)
    {
        if (!stream.CanSeek || !stream.CanRead)
            throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        if (writable && !stream.CanWrite)
            throw new ArgumentException("A writable open needs a writable stream.", nameof(stream));
        this.stream = stream;
        this.leaveOpen = leaveOpen;
        CanWrite = writable;
    }

    public long Length => stream.Length;

    public bool CanWrite { get; }

    public void Read(long offset, Span<byte> buffer)
    {
        Addressable.RequireIo(offset, buffer.Length);
        var available = Math.Max(0, stream.Length - offset);
        if (available < buffer.Length)
        {
            buffer[(int)available..].Clear();
            buffer = buffer[..(int)available];
        }
        if (buffer.Length == 0)
            return;
        // A stream has one position: concurrent guest reads take turns.
        lock (positionLock)
        {
            stream.Position = offset;
            stream.ReadExactly(buffer);
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        Addressable.RequireIo(offset, data.Length);
        lock (positionLock)
        {
            stream.Position = offset;
            stream.Write(data);
        }
    }

    public void Flush()
    {
        if (stream is FileStream file)
            file.Flush(flushToDisk: true);
        else
            stream.Flush();
    }

    public void SetLength(long length)
    {
        Addressable.RequireIo(0, length);
        stream.SetLength(length);
    }

    public void Dispose()
    {
        if (!leaveOpen)
            stream.Dispose();
    }
}
