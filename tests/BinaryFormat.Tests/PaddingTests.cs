using BinaryFormat.Tests.Layouts;
using static BinaryFormat.Tests.TestData;

namespace BinaryFormat.Tests;

/// <summary>[PadTo]: padding kept on a round trip, zeros for new values, and an optional must-be-zero rule.</summary>
public class PaddingTests
{
    private const string Area =
        "00000001" + "00000003" + "AABBCC" + "DDDDDDDDDD" +    // data 3 bytes, padding 5 bytes of junk a writer left
        "00000002" + "00000008" + "0102030405060708" +          // data 8 bytes, no padding
        "00000000" + "00000000";                                // end

    [Fact]
    public void PaddingIsReadKeptAndWrittenBack()
    {
        var bytes = Hex(Area);
        var area = PaddedArea.Read(bytes, 0, out var consumed);
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(Hex("DDDDDDDDDD"), area.Extensions[0].Padding);
        Assert.Empty(area.Extensions[1].Padding);

        var copy = new byte[area.GetEncodedSize()];
        area.Write(copy);
        Assert.Equal(Area, Hex(copy));
    }

    [Fact]
    public void NewValuesPadWithZeros()
    {
        var area = new PaddedArea { Extensions = [new PaddedExtension { Type = 9, Data = [1] }, new PaddedExtension()] };
        var bytes = new byte[area.GetEncodedSize()];
        bytes.AsSpan().Fill(0xEE);
        area.Write(bytes);
        Assert.Equal("00000009" + "00000001" + "01" + "00000000000000" + "00000000" + "00000000", Hex(bytes));
    }

    [Fact]
    public void PaddingInTheFixedHeadHasAFixedWidthAndReservedPaddingMustBeZero()
    {
        var bytes = Hex("07" + "EEEEEE" + "02" + "4142" + "00");
        var value = Aligning.Read(bytes, 0, out var consumed);
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(Hex("EEEEEE"), value.HeadPadding);
        Assert.Equal("AB", value.Name);
        Assert.Equal(8, value.GetEncodedSize());

        bytes[^1] = 0x5A;
        var error = Assert.Throws<BinaryFormatException>(() => Aligning.Read(bytes, 64)).Error;
        Assert.Equal("Aligning.NamePadding at offset 71: expected zeros (reserved), but byte 0 is 0x5A", error.Message);
    }
}
