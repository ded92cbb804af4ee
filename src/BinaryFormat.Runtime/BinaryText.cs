using System.ComponentModel;
using System.Text;

namespace BinaryFormat;

/// <summary>Encodes and decodes the string members of generated layouts. Generated code calls these.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class BinaryText
{
    private static readonly Encoding Utf8Strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly Encoding Utf16LEStrict = new UnicodeEncoding(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true);
    private static readonly Encoding Utf16BEStrict = new UnicodeEncoding(bigEndian: true, byteOrderMark: false, throwOnInvalidBytes: true);

    /// <summary>The size of the NUL that ends a string in <paramref name="encoding"/>.</summary>
    public static int TerminatorSize(TextEncoding encoding) => encoding is TextEncoding.Utf16LE or TextEncoding.Utf16BE ? 2 : 1;

    /// <summary>The index of the first NUL character in <paramref name="bytes"/>, or -1.</summary>
    public static int IndexOfTerminator(ReadOnlySpan<byte> bytes, TextEncoding encoding)
    {
        if (TerminatorSize(encoding) == 1)
            return bytes.IndexOf((byte)0);
        for (var i = 0; i + 1 < bytes.Length; i += 2)
        {
            if (bytes[i] == 0 && bytes[i + 1] == 0)
                return i;
        }
        return -1;
    }

    /// <summary>
    /// Decodes <paramref name="bytes"/>; false when they are not valid in <paramref name="encoding"/> (the value then
    /// holds what could be decoded). ASCII accepts only bytes below 0x80.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, TextEncoding encoding, out string value)
    {
        if (bytes.IsEmpty)
        {
            value = "";
            return true;
        }
        switch (encoding)
        {
            case TextEncoding.Latin1:
                value = Encoding.Latin1.GetString(bytes);
                return true;
            case TextEncoding.Ascii:
                value = Encoding.Latin1.GetString(bytes);
                return !bytes.ContainsAnyInRange((byte)0x80, (byte)0xFF);
            default:
                try
                {
                    value = Strict(encoding).GetString(bytes);
                    return true;
                }
                catch (DecoderFallbackException)
                {
                    value = Lenient(encoding).GetString(bytes);
                    return false;
                }
        }
    }

    /// <summary>The number of bytes <paramref name="value"/> takes in <paramref name="encoding"/>, or -1 when it cannot be encoded.</summary>
    public static int GetByteCount(string? value, TextEncoding encoding)
    {
        if (string.IsNullOrEmpty(value))
            return 0;
        switch (encoding)
        {
            case TextEncoding.Ascii:
                return value.AsSpan().ContainsAnyInRange('\u0080', '\uFFFF') ? -1 : value.Length;
            case TextEncoding.Latin1:
                return value.AsSpan().ContainsAnyInRange('\u0100', '\uFFFF') ? -1 : value.Length;
            default:
                try
                {
                    return Strict(encoding).GetByteCount(value);
                }
                catch (EncoderFallbackException)
                {
                    return -1;
                }
        }
    }

    /// <summary>Encodes <paramref name="value"/> into <paramref name="destination"/> and returns the bytes written.</summary>
    /// <exception cref="ArgumentException">The value cannot be encoded, or does not fit.</exception>
    public static int Encode(string? value, Span<byte> destination, TextEncoding encoding, string member)
    {
        var count = GetByteCount(value, encoding);
        if (count < 0)
            throw new ArgumentException($"{member} cannot be encoded as {encoding}.");
        if (count > destination.Length)
            throw new ArgumentException($"{member} takes {count} bytes as {encoding}, but only {destination.Length} are available.");
        return count == 0 ? 0 : (encoding is TextEncoding.Ascii or TextEncoding.Latin1 ? Encoding.Latin1 : Strict(encoding)).GetBytes(value, destination);
    }

    /// <summary>
    /// Decodes a string member read at <paramref name="fieldOffset"/>; with <paramref name="zeroPadded"/> it ends at the
    /// first NUL. Bytes that are not valid in <paramref name="encoding"/> are reported as an <see cref="BinaryFormatRule.Encoding"/> error.
    /// </summary>
    public static string Read(ReadOnlySpan<byte> bytes, TextEncoding encoding, bool zeroPadded, ref BinaryFormatValidator validator, string member, long fieldOffset)
    {
        if (zeroPadded && IndexOfTerminator(bytes, encoding) is var end and >= 0)
            bytes = bytes[..end];
        if (!TryDecode(bytes, encoding, out var value))
            validator.Report(member, fieldOffset, BinaryFormatRule.Encoding, BinaryFormatValidator.Format(bytes.Length) + " bytes", encoding.ToString(),
                $"the bytes are not valid {encoding}");
        return value;
    }

    /// <summary>The bytes a string member takes: its encoded length (0 when it cannot be encoded) plus the NUL when <paramref name="terminated"/>.</summary>
    public static int EncodedSize(string? value, TextEncoding encoding, bool terminated) =>
        Math.Max(GetByteCount(value, encoding), 0) + (terminated ? TerminatorSize(encoding) : 0);

    /// <summary>Encodes a string member into a fixed-size area and zeroes the rest (or the NUL after it, when <paramref name="terminated"/>).</summary>
    /// <exception cref="ArgumentException">The value cannot be encoded, or does not fit.</exception>
    public static int Write(string? value, Span<byte> destination, TextEncoding encoding, bool terminated, string member)
    {
        var written = Encode(value, destination, encoding, member);
        if (terminated)
        {
            var terminator = TerminatorSize(encoding);
            if (destination.Length - written < terminator)
                throw new ArgumentException($"{member} leaves no room for its NUL terminator.");
            destination.Slice(written, terminator).Clear();
            return written + terminator;
        }
        destination[written..].Clear();
        return destination.Length;
    }

    /// <summary>Reports a string member that cannot be encoded in its encoding or is longer than <paramref name="maxBytes"/> (-1: any length).</summary>
    public static void Check(string? value, TextEncoding encoding, int maxBytes, ref BinaryFormatValidator validator, string member, long fieldOffset)
    {
        var count = GetByteCount(value, encoding);
        if (count < 0)
            validator.Report(member, fieldOffset, BinaryFormatRule.Encoding, Quote(value), encoding.ToString(), $"{Quote(value)} cannot be encoded as {encoding}");
        else if (maxBytes >= 0 && count > maxBytes)
            validator.Report(member, fieldOffset, BinaryFormatRule.Length, BinaryFormatValidator.Format(count), "at most " + BinaryFormatValidator.Format(maxBytes),
                $"expected at most {maxBytes} bytes, but the string takes {count}");
    }

    private static string Quote(string? value) => value is null ? "null" : "\"" + value + "\"";

    private static Encoding Strict(TextEncoding encoding) => encoding switch
    {
        TextEncoding.Utf16LE => Utf16LEStrict,
        TextEncoding.Utf16BE => Utf16BEStrict,
        _ => Utf8Strict,
    };

    private static Encoding Lenient(TextEncoding encoding) => encoding switch
    {
        TextEncoding.Utf16LE => Encoding.Unicode,
        TextEncoding.Utf16BE => Encoding.BigEndianUnicode,
        _ => Encoding.UTF8,
    };
}
