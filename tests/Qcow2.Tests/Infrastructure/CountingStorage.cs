namespace Qcow2.Tests.Infrastructure;

/// <summary>Storage that records what is asked of it: the reads and writes with their ranges, flushes and length queries.</summary>
internal sealed class CountingStorage(IImageStorage inner, bool allowSetLength = true) : IImageStorage
{
    public List<(long Offset, int Length)> Reads { get; } = [];
    public List<(long Offset, int Length)> Writes { get; } = [];
    public int Flushes { get; private set; }
    public int LengthCalls { get; private set; }

    public long Length
    {
        get
        {
            LengthCalls++;
            return inner.Length;
        }
    }

    public bool CanWrite => inner.CanWrite;

    public void Read(long offset, Span<byte> buffer)
    {
        Reads.Add((offset, buffer.Length));
        inner.Read(offset, buffer);
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        Writes.Add((offset, data.Length));
        inner.Write(offset, data);
    }

    public void Flush()
    {
        Flushes++;
        inner.Flush();
    }

    public void SetLength(long length)
    {
        if (!allowSetLength)
            throw new InvalidOperationException("this operation must not resize the file");
        inner.SetLength(length);
    }

    public void Dispose() => inner.Dispose();

    /// <summary>How many reads covered the byte at <paramref name="offset"/>.</summary>
    public int TimesRead(long offset) => Reads.Count(r => r.Offset <= offset && offset < r.Offset + r.Length);
}
