using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Qcow2;

/// <summary>Refcount block packing: widths 8-64 are big-endian integers, widths 1-4 are packed LSB-first in each byte.</summary>
internal static class Refcounts
{
    /// <summary>Refcount entries per refcount block.</summary>
    public static long EntriesPerBlock(int clusterBits, int refcountOrder) => (1L << (clusterBits + 3)) >> refcountOrder;

    /// <summary>The largest refcount a <paramref name="refcountOrder"/> entry can hold.</summary>
    public static ulong MaxRefcount(int refcountOrder) => refcountOrder == 6 ? ulong.MaxValue : (1UL << (1 << refcountOrder)) - 1;

    public static ulong Get(ReadOnlySpan<byte> block, long index, int refcountOrder)
    {
        var bits = 1 << refcountOrder;
        return bits switch
        {
            < 8 => (ulong)(block[(int)(index * bits / 8)] >> (int)(index % (8 / bits) * bits)) & ((1UL << bits) - 1),
            8 => block[(int)index],
            16 => BinaryPrimitives.ReadUInt16BigEndian(block[(int)(index * 2)..]),
            32 => BinaryPrimitives.ReadUInt32BigEndian(block[(int)(index * 4)..]),
            _ => BinaryPrimitives.ReadUInt64BigEndian(block[(int)(index * 8)..]),
        };
    }

    public static void Set(Span<byte> block, long index, int refcountOrder, ulong value)
    {
        if (value > MaxRefcount(refcountOrder))
            throw new ArgumentOutOfRangeException(nameof(value), value, $"a {1 << refcountOrder}-bit refcount cannot hold it");
        var bits = 1 << refcountOrder;
        switch (bits)
        {
            case < 8:
                var at = (int)(index * bits / 8);
                var shift = (int)(index % (8 / bits) * bits);
                var mask = (byte)(((1 << bits) - 1) << shift);
                block[at] = (byte)((block[at] & ~mask) | ((int)value << shift));
                break;
            case 8: block[(int)index] = (byte)value; break;
            case 16: BinaryPrimitives.WriteUInt16BigEndian(block[(int)(index * 2)..], (ushort)value); break;
            case 32: BinaryPrimitives.WriteUInt32BigEndian(block[(int)(index * 4)..], (uint)value); break;
            default: BinaryPrimitives.WriteUInt64BigEndian(block[(int)(index * 8)..], value); break;
        }
    }

    /// <summary>
    /// Whether the first <c>counts.Length</c> 16-bit refcounts of <paramref name="block"/> equal <paramref name="counts"/>,
    /// 16 at a time: read as little-endian, a big-endian refcount equal to an 8-bit count c is c shifted left by 8.
    /// </summary>
    public static bool Equal16(ReadOnlySpan<byte> block, ReadOnlySpan<byte> counts)
    {
        var swapped = MemoryMarshal.Cast<byte, ushort>(block[..(counts.Length * sizeof(ushort))]);
        var i = 0;
        if (BitConverter.IsLittleEndian)
        {
            for (; i <= counts.Length - Vector128<byte>.Count; i += Vector128<byte>.Count)
            {
                var (lower, upper) = Vector128.Widen(Vector128.Create(counts.Slice(i, Vector128<byte>.Count)));
                if (!Vector128.EqualsAll(Vector128.ShiftLeft(lower, 8), Vector128.Create(swapped.Slice(i, Vector128<ushort>.Count)))
                    || !Vector128.EqualsAll(Vector128.ShiftLeft(upper, 8), Vector128.Create(swapped.Slice(i + Vector128<ushort>.Count, Vector128<ushort>.Count))))
                    return false;
            }
        }
        for (; i < counts.Length; i++)
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(block[(i * sizeof(ushort))..]) != counts[i])
                return false;
        }
        return true;
    }
}
