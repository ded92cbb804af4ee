using System.Buffers;
using System.Buffers.Binary;
using System.ComponentModel;
using System.IO.Hashing;

namespace BinaryFormat;

/// <summary>Computes and checks <see cref="ChecksumAttribute"/> fields. Generated code calls these.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class BinaryChecksum
{
    private const int Width = 4;
    private static readonly uint[] Castagnoli = Table(0x82F63B78);
    [ThreadStatic]
    private static Crc32? crc32;

    /// <summary>
    /// The checksum of <paramref name="bytes"/>[<paramref name="from"/>..<paramref name="to"/>], with the 4 bytes at
    /// <paramref name="at"/> counted as zero when they lie inside the range.
    /// </summary>
    public static uint Compute(ChecksumAlgorithm algorithm, ReadOnlySpan<byte> bytes, int from, int to, int at)
    {
        var data = bytes[from..to];
        var zeroAt = at >= from && at + Width <= to ? at - from : -1;
        if (algorithm == ChecksumAlgorithm.Crc32)
        {
            if (zeroAt < 0)
                return Crc32.HashToUInt32(data);
            var crc = crc32 ??= new Crc32();
            crc.Reset();
            crc.Append(data[..zeroAt]);
            crc.Append([0, 0, 0, 0]);
            crc.Append(data[(zeroAt + Width)..]);
            return crc.GetCurrentHashAsUInt32();
        }
        var state = 0xFFFFFFFFu;
        if (zeroAt < 0)
        {
            state = Update(state, data);
        }
        else
        {
            state = Update(state, data[..zeroAt]);
            state = Update(state, [0, 0, 0, 0]);
            state = Update(state, data[(zeroAt + Width)..]);
        }
        return algorithm == ChecksumAlgorithm.Crc32C ? ~state : state;
    }

    /// <summary>Reports a checksum member whose value differs from the checksum of the bytes read.</summary>
    public static void Check(ChecksumAlgorithm algorithm, ReadOnlySpan<byte> bytes, (int From, int To, int At) range, uint actual,
        ref BinaryFormatValidator validator, string member)
    {
        if (range.To > bytes.Length || range.From > range.To)
            return;
        var expected = Compute(algorithm, bytes, range.From, range.To, range.At);
        if (expected != actual)
            Report(algorithm, range, expected, actual, ref validator, member);
    }

    /// <summary>Writes the checksum into <paramref name="destination"/> at the range's position (after the rest is written).</summary>
    public static void Write(ChecksumAlgorithm algorithm, Span<byte> destination, (int From, int To, int At) range, bool bigEndian)
    {
        var at = destination.Slice(range.At, Width);
        if (range.At >= range.From && range.At + Width <= range.To)
            at.Clear();
        var value = Compute(algorithm, destination, range.From, range.To, range.At);
        if (bigEndian)
            BinaryPrimitives.WriteUInt32BigEndian(at, value);
        else
            BinaryPrimitives.WriteUInt32LittleEndian(at, value);
    }

    /// <summary>Reports a checksum member that differs from the checksum of the value's encoding (encoded into a pooled buffer).</summary>
    public static void Validate<T>(in T value, ChecksumAlgorithm algorithm, (int From, int To, int At) range, uint actual, bool bigEndian,
        ref BinaryFormatValidator validator, string member)
        where T : IBinaryLayout<T>
    {
        var size = value.GetEncodedSize();
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            value.Write(buffer.AsSpan(0, size));
            var at = buffer.AsSpan(range.At, Width);
            var expected = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(at) : BinaryPrimitives.ReadUInt32LittleEndian(at);
            if (expected != actual)
                Report(algorithm, range, expected, actual, ref validator, member);
        }
        catch (ArgumentException)
        {
            // A value Write refuses has other errors, reported by their own rules; its checksum is undefined.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Report(ChecksumAlgorithm algorithm, (int From, int To, int At) range, uint expected, uint actual,
        ref BinaryFormatValidator validator, string member)
    {
        var expectedText = BinaryFormatValidator.Hex(expected, 8);
        var actualText = BinaryFormatValidator.Hex(actual, 8);
        var name = algorithm == ChecksumAlgorithm.Crc32 ? "CRC-32" : "CRC-32C";
        validator.Report(member, range.At, BinaryFormatRule.Checksum, actualText, expectedText,
            $"expected {expectedText} ({name} of bytes {validator.Position + range.From}..{validator.Position + range.To - 1}), but got {actualText}");
    }

    private static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        var table = Castagnoli;
        foreach (var b in data)
            state = table[(state ^ b) & 0xFF] ^ (state >> 8);
        return state;
    }

    private static uint[] Table(uint polynomial)
    {
        var table = new uint[256];
        for (var i = 0u; i < 256; i++)
        {
            var entry = i;
            for (var bit = 0; bit < 8; bit++)
                entry = (entry & 1) != 0 ? (entry >> 1) ^ polynomial : entry >> 1;
            table[i] = entry;
        }
        return table;
    }
}
