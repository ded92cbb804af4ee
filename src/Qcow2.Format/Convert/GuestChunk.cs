using System.Buffers;

namespace Qcow2;

/// <summary>
/// A range of guest bytes on its way through a copy or a comparison: data read from a disk into a pooled buffer, or (when
/// <see cref="IsData"/> is false) a range that reads as zeros and is not read.
/// </summary>
internal sealed class GuestChunk(long start, int length, bool isData = true)
{
    private byte[]? buffer;

    public long Start => start;

    public int Length => length;

    public bool IsData => isData;

    /// <summary>The bytes read by <see cref="ReadFrom"/>.</summary>
    public Span<byte> Data => buffer.AsSpan(0, length);

    /// <inheritdoc cref="Data"/>
    public Memory<byte> Memory => buffer.AsMemory(0, length);

    /// <summary>Reads the chunk's data from <paramref name="disk"/> into a pooled buffer (nothing for a zero range).</summary>
    public void ReadFrom(Qcow2VirtualDisk disk)
    {
        if (!isData)
            return;
        buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            disk.Read(start, Data);
        }
        catch
        {
            Release();
            throw;
        }
    }

    /// <summary>Gives the buffer back to the pool; the chunk's data is gone.</summary>
    public void Release()
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = null;
        }
    }
}
