namespace Qcow2;

/// <summary>Bit helpers for serialized bitmap clusters (bit i at byte i/8, bit i%8, LSB first; spec §3.4).</summary>
internal static class BitmapBits
{
    /// <summary>Clears every bit from <paramref name="bit"/> to the end of <paramref name="data"/>.</summary>
    public static void ClearFrom(Span<byte> data, long bit)
    {
        if (bit >= (long)data.Length * 8)
            return;
        var index = (int)(bit / 8);
        var within = (int)(bit % 8);
        if (within != 0)
        {
            data[index] &= (byte)((1 << within) - 1);
            index++;
        }
        data[index..].Clear();
    }

    /// <summary>Whether any bit from <paramref name="bit"/> to the end of <paramref name="data"/> is set.</summary>
    public static bool AnySetFrom(ReadOnlySpan<byte> data, long bit)
    {
        if (bit >= (long)data.Length * 8)
            return false;
        var index = (int)(bit / 8);
        var within = (int)(bit % 8);
        if (within != 0)
        {
            if ((data[index] & ~((1 << within) - 1) & 0xFF) != 0)
                return true;
            index++;
        }
        return data[index..].IndexOfAnyExcept((byte)0) >= 0;
    }

    /// <summary>Sets the bits [<paramref name="first"/>, <paramref name="end"/>) of <paramref name="data"/>.</summary>
    public static void SetRange(Span<byte> data, long first, long end)
    {
        while (first < end && first % 8 != 0)
        {
            data[(int)(first / 8)] |= (byte)(1 << (int)(first % 8));
            first++;
        }
        var wholeBytes = (end - first) / 8;
        if (wholeBytes > 0)
        {
            data.Slice((int)(first / 8), (int)wholeBytes).Fill(0xFF);
            first += wholeBytes * 8;
        }
        while (first < end)
        {
            data[(int)(first / 8)] |= (byte)(1 << (int)(first % 8));
            first++;
        }
    }
}
