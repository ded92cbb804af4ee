namespace Qcow2;

/// <summary>
/// A seekable <see cref="Stream"/> over the virtual disk of a <see cref="Qcow2Image"/>. Reads stop at the virtual size; a
/// write past it fails (the disk grows only by <see cref="Qcow2Image.Resize"/>). Disposing the stream leaves the image open.
/// </summary>
internal sealed class Qcow2DiskStream(Qcow2Image image) : Stream
{
    private long position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => image.IsWritable;
    public override long Length => image.VirtualSize;

    public override long Position
    {
        get => position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Clamp(Length - position, 0, buffer.Length);
        image.Read(position, buffer[..count]);
        position += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var count = (int)Math.Clamp(Length - position, 0, buffer.Length);
        await image.ReadAsync(position, buffer[..count], cancellationToken).ConfigureAwait(false);
        position += count;
        return count;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        image.Write(position, buffer);
        position += buffer.Length;
    }

    public override void Flush()
    {
        if (CanWrite)
            image.Flush();
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => position + offset,
            SeekOrigin.End => Length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return position;
    }

    public override void SetLength(long value) =>
        throw new NotSupportedException("The length of a virtual disk is its virtual size; change it with Qcow2Image.Resize.");
}
