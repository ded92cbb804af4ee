using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace BinaryFormat;

// Reading and writing any layout at an offset of a stream or a file. Spans stay the zero-allocation path; these rent
// their buffers, so only the value's own arrays are allocated.
public static partial class BinaryLayout
{
    /// <summary>The first read when the layout's size is not known: enough for most headers and records in one call.</summary>
    private const int FirstRead = 512;

    /// <summary>
    /// Reads and validates a <typeparamref name="T"/> at <paramref name="offset"/> of a seekable stream, reading as many
    /// bytes as the layout asks for (to the end of the stream for a layout that takes the rest). Errors carry absolute
    /// offsets in the stream. The stream's position is left after the bytes read.
    /// </summary>
    /// <exception cref="BinaryFormatException">The stream ends too early or the value breaks a rule.</exception>
    /// <exception cref="ArgumentException">The stream cannot read or seek.</exception>
    public static T Read<T>(Stream stream, long offset) where T : IBinaryLayout<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead || !stream.CanSeek)
            throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return ReadFrom<T, StreamAccess>(new StreamAccess(stream), offset);
    }

    /// <summary>
    /// Reads and validates a <typeparamref name="T"/> at <paramref name="offset"/> of a file with positional reads
    /// (<see cref="RandomAccess"/>); errors carry absolute offsets in the file.
    /// </summary>
    /// <exception cref="BinaryFormatException">The file ends too early or the value breaks a rule.</exception>
    public static T Read<T>(SafeFileHandle file, long offset) where T : IBinaryLayout<T>
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return ReadFrom<T, FileAccess>(new FileAccess(file), offset);
    }

    /// <summary>
    /// Writes <paramref name="value"/> at <paramref name="offset"/> of a seekable stream. As with a span, bytes inside the
    /// layout that no field declares keep what the stream holds there.
    /// </summary>
    /// <exception cref="ArgumentException">The stream cannot read, write or seek, or the value cannot be encoded.</exception>
    public static void Write<T>(Stream stream, long offset, T value) where T : IBinaryLayout<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead || !stream.CanWrite || !stream.CanSeek)
            throw new ArgumentException("The stream must be readable, writable and seekable.", nameof(stream));
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        WriteTo(new StreamAccess(stream), offset, value);
    }

    /// <summary>
    /// Writes <paramref name="value"/> at <paramref name="offset"/> of a file with positional I/O (<see cref="RandomAccess"/>).
    /// As with a span, bytes inside the layout that no field declares keep what the file holds there.
    /// </summary>
    /// <exception cref="ArgumentException">The value cannot be encoded.</exception>
    public static void Write<T>(SafeFileHandle file, long offset, T value) where T : IBinaryLayout<T>
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        WriteTo(new FileAccess(file), offset, value);
    }

    private static T ReadFrom<T, TAccess>(TAccess access, long offset) where T : IBinaryLayout<T> where TAccess : IPositionalAccess
    {
        var remaining = Math.Max(0, access.Length - offset);
        var limit = (int)Math.Min(remaining, Array.MaxLength);
        var wanted = T.ReadsToEnd ? limit : Math.Min(limit, FirstRead);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(wanted, 1));
        try
        {
            var filled = access.ReadAt(offset, buffer.AsSpan(0, wanted));
            while (true)
            {
                if (T.TryRead(buffer.AsSpan(0, filled), offset, out var value, out _, out var error))
                    return value;
                // Short input inside what the file holds: read up to what the layout asked for and try again.
                var needed = error.Rule == BinaryFormatRule.ShortInput ? Math.Min(error.BytesNeeded, limit) : 0;
                if (needed <= filled || filled < wanted)
                    throw new BinaryFormatException(error);
                wanted = (int)needed;
                if (buffer.Length < wanted)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(wanted);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                filled += access.ReadAt(offset + filled, buffer.AsSpan(filled, wanted - filled));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void WriteTo<T, TAccess>(TAccess access, long offset, T value) where T : IBinaryLayout<T> where TAccess : IPositionalAccess
    {
        var size = value.GetEncodedSize();
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        try
        {
            var bytes = buffer.AsSpan(0, size);
            // Read what is there first, so that undeclared bytes are written back unchanged.
            var existing = offset < access.Length ? access.ReadAt(offset, bytes) : 0;
            bytes[existing..].Clear();
            value.Write(bytes);
            access.WriteAt(offset, bytes);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Positional reads and writes over a stream or a file handle; a struct so that the generic code is specialised.</summary>
    private interface IPositionalAccess
    {
        long Length { get; }

        /// <summary>Reads until <paramref name="destination"/> is full or the end is reached; returns the bytes read.</summary>
        int ReadAt(long offset, Span<byte> destination);

        void WriteAt(long offset, ReadOnlySpan<byte> source);
    }

    private readonly struct StreamAccess(Stream stream) : IPositionalAccess
    {
        public long Length => stream.Length;

        public int ReadAt(long offset, Span<byte> destination)
        {
            stream.Position = offset;
            return stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        }

        public void WriteAt(long offset, ReadOnlySpan<byte> source)
        {
            stream.Position = offset;
            stream.Write(source);
        }
    }

    private readonly struct FileAccess(SafeFileHandle file) : IPositionalAccess
    {
        public long Length => RandomAccess.GetLength(file);

        public int ReadAt(long offset, Span<byte> destination)
        {
            var total = 0;
            while (total < destination.Length)
            {
                var read = RandomAccess.Read(file, destination[total..], offset + total);
                if (read == 0)
                    break;
                total += read;
            }
            return total;
        }

        public void WriteAt(long offset, ReadOnlySpan<byte> source) => RandomAccess.Write(file, source, offset);
    }
}
