namespace BinaryFormat.Tests;

internal static class TestData
{
    public static byte[] Hex(string text) => Convert.FromHexString(text.Replace(" ", "").Replace("\n", ""));

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);

    /// <summary>A valid <see cref="Layouts.RuleHeader"/>: version 3, 64 KiB clusters; the undeclared bytes hold 0xEE.</summary>
    public static byte[] ValidHeader() => Hex(
        "514649FB" +          //  0 magic
        "00000003" +          //  4 version 3
        "00000000" +          //  8 reserved
        "00000010" +          // 12 cluster bits 16
        "00010000" +          // 16 cluster size 65536
        "0000000000100000" +  // 20 virtual size 1 MiB
        "0000000000030000" +  // 28 L1 table offset 3 * 64 KiB
        "0000000000000200" +  // 36 data offset 512
        "0000000000000001" +  // 44 incompatible features: bit 0
        "8001" +              // 52 hints: known bit 0 and unknown bit 15
        "EEEE" +              // 54 undeclared gap
        "00000004" +          // 56 refcount order 4
        "EEEEEEEE");          // 60 trailing padding (Size = 64)

    /// <summary><paramref name="bytes"/> preceded by <paramref name="padding"/> bytes of 0x55, to read at a non-zero index.</summary>
    public static byte[] At(int padding, byte[] bytes)
    {
        var result = new byte[padding + bytes.Length];
        result.AsSpan(0, padding).Fill(0x55);
        bytes.CopyTo(result, padding);
        return result;
    }

    public static void Put(byte[] bytes, int offset, string hex) => Hex(hex).CopyTo(bytes, offset);
}
