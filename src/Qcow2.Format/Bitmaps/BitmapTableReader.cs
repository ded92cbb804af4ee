using System.Buffers.Binary;

namespace Qcow2;

/// <summary>Reads a bitmap table sequentially in chunks of at most 8192 entries.</summary>
internal sealed class BitmapTableReader(IImageStorage storage, Qcow2Bitmap bitmap) : IDisposable
{
    private const int ChunkEntries = 8192;
    private readonly byte[] chunk = new byte[Math.Min(Math.Max(bitmap.TableSize, 1), ChunkEntries) * sizeof(ulong)];
    private long chunkStart = -1;
    private int chunkCount;

    public long Count => bitmap.TableSize;

    public ulong this[long index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, (long)bitmap.TableSize);
            if (chunkStart < 0 || index < chunkStart || index >= chunkStart + chunkCount)
            {
                chunkStart = index / ChunkEntries * ChunkEntries;
                chunkCount = (int)Math.Min(ChunkEntries, bitmap.TableSize - chunkStart);
                storage.Read(bitmap.TableOffset + chunkStart * sizeof(ulong), chunk.AsSpan(0, chunkCount * sizeof(ulong)));
            }
            return BinaryPrimitives.ReadUInt64BigEndian(chunk.AsSpan((int)(index - chunkStart) * sizeof(ulong)));
        }
    }

    public void Dispose()
    {
    }
}
