namespace Qcow2.Tests.Infrastructure;

/// <summary>
/// A stream over an image held in memory that simulates a crash: the first <c>persistedWrites</c> writes (and length changes)
/// reach <see cref="PersistedBytes"/>, every later one is kept only in the live view the process keeps reading from, as if the
/// machine lost power right after write number N. Run an operation once with a large limit to count its writes
/// (<see cref="Writes"/>), then once for every N, and check that <see cref="PersistedBytes"/> is a usable image each time.
/// </summary>
public sealed class CrashAfterWritesStream : Stream
{
    private readonly MemoryStream live;
    private readonly MemoryStream persisted;
    private readonly int persistedWrites;

    public CrashAfterWritesStream(byte[] image, int persistedWrites)
    {
        live = new MemoryStream();
        live.Write(image);
        persisted = new MemoryStream();
        persisted.Write(image);
        live.Position = 0;
        this.persistedWrites = persistedWrites;
    }

    /// <summary>Writes and length changes seen so far, persisted or not.</summary>
    public int Writes { get; private set; }

    /// <summary>What is "on disk" after the crash.</summary>
    public byte[] PersistedBytes => persisted.ToArray();

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => true;
    public override long Length => live.Length;

    public override long Position
    {
        get => live.Position;
        set => live.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => live.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => live.Read(buffer);

    public override long Seek(long offset, SeekOrigin origin) => live.Seek(offset, origin);

    public override void SetLength(long value)
    {
        live.SetLength(value);
        if (Writes++ < persistedWrites)
            persisted.SetLength(value);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var position = live.Position;
        live.Write(buffer);
        if (Writes++ < persistedWrites)
        {
            persisted.Position = position;
            persisted.Write(buffer);
        }
    }

    public override void Flush()
    {
    }
}
