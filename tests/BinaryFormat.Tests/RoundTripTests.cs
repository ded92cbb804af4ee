using BinaryFormat.Tests.Layouts;
using static BinaryFormat.Tests.TestData;

namespace BinaryFormat.Tests;

/// <summary>Every member type in both byte orders: Write produces exactly these bytes and Read gives the value back.</summary>
public class RoundTripTests
{
    private const string BigEndianBytes =
        "01" + "FE" + "FFFD" + "1234" + "FFFFFFFB" + "DEADBEEF" + "FFFFFFFFFFFFFFF9" + "0102030405060708" + "01" + "0002" + "FF" + "1122334455667788";

    private const string LittleEndianBytes =
        "01" + "FE" + "FDFF" + "3412" + "FBFFFFFF" + "EFBEADDE" + "F9FFFFFFFFFFFFFF" + "0807060504030201" + "01" + "0200" + "FF" + "8877665544332211";

    private static AllTypesBig BigValue => new()
    {
        U8 = 1, I8 = -2, I16 = -3, U16 = 0x1234, I32 = -5, U32 = 0xDEADBEEF, I64 = -7, U64 = 0x0102030405060708,
        Flag = true, Kind = Kind.Directory, Sign = Sign.Minus, Wide = Wide.Big,
    };

    private static AllTypesLittle LittleValue => new()
    {
        U8 = 1, I8 = -2, I16 = -3, U16 = 0x1234, I32 = -5, U32 = 0xDEADBEEF, I64 = -7, U64 = 0x0102030405060708,
        Flag = true, Kind = Kind.Directory, Sign = Sign.Minus, Wide = Wide.Big,
    };

    [Fact]
    public void SizeIsTheEndOfTheLastField()
    {
        Assert.Equal(42, AllTypesBig.Size);
        Assert.Equal(42, AllTypesLittle.Size);
        Assert.Equal(10, BigWithLittleField.Size);
        Assert.Equal(64, RuleHeader.Size); // [BinaryFormat(Size = 64)] beyond the last field (60)
        Assert.Equal(26, Container.Size);
        Assert.Equal(40, Blocks.Size);
    }

    [Fact]
    public void BigEndianWritesExactBytes()
    {
        var buffer = new byte[AllTypesBig.Size];
        BigValue.Write(buffer);
        Assert.Equal(BigEndianBytes, Hex(buffer));
    }

    [Fact]
    public void BigEndianReadsExactBytes()
    {
        var value = AllTypesBig.Read(Hex(BigEndianBytes));
        Assert.Equal(BigValue, value);
        Assert.Equal(-3, value.I16);
        Assert.Equal(Wide.Big, value.Wide);
    }

    [Fact]
    public void LittleEndianWritesExactBytes()
    {
        var buffer = new byte[AllTypesLittle.Size];
        LittleValue.Write(buffer);
        Assert.Equal(LittleEndianBytes, Hex(buffer));
    }

    [Fact]
    public void LittleEndianReadsExactBytes() => Assert.Equal(LittleValue, AllTypesLittle.Read(Hex(LittleEndianBytes)));

    public static TheoryData<AllTypesBig> Extremes => new()
    {
        new AllTypesBig(),
        new AllTypesBig
        {
            U8 = byte.MaxValue, I8 = sbyte.MaxValue, I16 = short.MaxValue, U16 = ushort.MaxValue, I32 = int.MaxValue, U32 = uint.MaxValue,
            I64 = long.MaxValue, U64 = ulong.MaxValue, Flag = true, Kind = (Kind)ushort.MaxValue, Sign = (Sign)sbyte.MaxValue, Wide = (Wide)long.MaxValue,
        },
        new AllTypesBig
        {
            I8 = sbyte.MinValue, I16 = short.MinValue, I32 = int.MinValue, I64 = long.MinValue, U64 = 1UL << 63,
            Sign = (Sign)sbyte.MinValue, Wide = (Wide)long.MinValue,
        },
    };

    [Theory]
    [MemberData(nameof(Extremes))]
    public void ExtremeValuesRoundTripInBothByteOrders(AllTypesBig value)
    {
        var big = new byte[AllTypesBig.Size];
        value.Write(big);
        Assert.Equal(value, AllTypesBig.Read(big));

        // The little-endian layout must produce each field's bytes reversed.
        var little = new byte[AllTypesLittle.Size];
        new AllTypesLittle
        {
            U8 = value.U8, I8 = value.I8, I16 = value.I16, U16 = value.U16, I32 = value.I32, U32 = value.U32, I64 = value.I64, U64 = value.U64,
            Flag = value.Flag, Kind = value.Kind, Sign = value.Sign, Wide = value.Wide,
        }.Write(little);
        int[] widths = [1, 1, 2, 2, 4, 4, 8, 8, 1, 2, 1, 8];
        int offset = 0;
        foreach (var width in widths)
        {
            var reversed = big.AsSpan(offset, width).ToArray();
            Array.Reverse(reversed);
            Assert.Equal(Hex(reversed), Hex(little.AsSpan(offset, width)));
            offset += width;
        }
        Assert.Equal(AllTypesLittle.Size, offset);
    }

    [Fact]
    public void PerFieldByteOrderOverridesTheLayout()
    {
        var big = new BigWithLittleField { Little = 0x01020304, Default = 0x01020304, ExplicitBig = 0x0506 };
        var buffer = new byte[BigWithLittleField.Size];
        big.Write(buffer);
        Assert.Equal("04030201" + "01020304" + "0506", Hex(buffer));
        Assert.Equal(big, BigWithLittleField.Read(buffer));

        var little = new LittleWithBigField { Big = 0x01020304, Default = 0x01020304, ExplicitLittle = 0x0506 };
        little.Write(buffer);
        Assert.Equal("01020304" + "04030201" + "0605", Hex(buffer));
        Assert.Equal(little, LittleWithBigField.Read(buffer));
    }

    [Fact]
    public void BoolReadsAnyNonZeroByteAsTrue()
    {
        var bytes = Hex(BigEndianBytes);
        bytes[30] = 0;
        Assert.False(AllTypesBig.Read(bytes).Flag);
        bytes[30] = 1;
        Assert.True(AllTypesBig.Read(bytes).Flag);
    }

    [Fact]
    public void ReadIgnoresBytesAfterTheLayout()
    {
        var bytes = Hex(BigEndianBytes + "FFFFFFFF");
        Assert.Equal(BigValue, AllTypesBig.Read(bytes));
    }

    [Fact]
    public void ClassRecordAndRecordStructRoundTrip()
    {
        var message = Message.Read(Hex("4D" + "0102" + "000003E8"));
        Assert.Equal((byte)0x4D, message.Tag);
        Assert.Equal(0x0102, message.Id);
        Assert.Equal(1000, message.Length);
        var buffer = new byte[Message.Size];
        new Message { Tag = 0, Id = 7, Length = 9 }.Write(buffer);
        Assert.Equal("4D" + "0007" + "00000009", Hex(buffer)); // the magic is written even though Tag was 0

        var point = new Point { X = -1, Y = 0x10203 };
        buffer = new byte[Point.Size];
        point.Write(buffer);
        Assert.Equal("FFFFFFFF" + "03020100", Hex(buffer));
        Assert.Equal(point, Point.Read(buffer)); // a record compares by value

        var pair = new Pair { First = 0xABCD, Second = 2 };
        buffer = new byte[Pair.Size];
        pair.Write(buffer);
        Assert.Equal("ABCD0002", Hex(buffer));
        Assert.Equal(pair, Pair.Read(buffer));
    }

    [Fact]
    public void ByteBlocksRoundTrip()
    {
        var bytes = Hex("00000010" + "000102030405060708090A0B0C0D0E0F" + "4142434445464748" + "00000000" + "0000000000000000");
        var value = Blocks.Read(bytes);
        Assert.Equal(16u, value.Length);
        Assert.Equal(Hex("000102030405060708090A0B0C0D0E0F"), value.Id);
        Assert.Equal("ABCDEFGH", System.Text.Encoding.ASCII.GetString(value.Name));
        Assert.Equal(new byte[4], value.Pad);

        var buffer = new byte[Blocks.Size];
        buffer.AsSpan().Fill(0xEE);
        var written = new Blocks { Length = 3, Id = Hex("FFEEDDCCBBAA99887766554433221100"), Pad = Hex("01020304") };
        "XYZ12345"u8.CopyTo(written.Name);
        written.ReservedName[0] = 9;
        written.Write(buffer);
        // Reserved blocks are written as the member holds them (Validate reports non-zero ones).
        Assert.Equal("00000003" + "FFEEDDCCBBAA99887766554433221100" + Hex("XYZ12345"u8) + "01020304" + "0900000000000000", Hex(buffer));
        Assert.Equal(["Blocks.Pad at offset 28: expected zeros (reserved), but byte 0 is 0x01",
                      "Blocks.ReservedName at offset 32: expected zeros (reserved), but byte 0 is 0x09"], written.Validate().Select(e => e.Message));
    }

    [Fact]
    public void ReadUncheckedThenWriteKeepsNonZeroReservedBytes()
    {
        // An image written by a newer tool may use bytes this version reserves; rewriting it must not erase them.
        var bytes = Hex("00000010" + "000102030405060708090A0B0C0D0E0F" + "4142434445464748" + "A1A2A3A4" + "B1B2B3B4B5B6B7B8");
        var copy = new byte[bytes.Length];
        Blocks.ReadUnchecked(bytes).Write(copy);
        Assert.Equal(Hex(bytes), Hex(copy));

        var header = TestData.ValidHeader();
        Put(header, 8, "00000100");
        var rewritten = (byte[])header.Clone();
        RuleHeader.ReadUnchecked(header).Write(rewritten);
        Assert.Equal(Hex(header), Hex(rewritten));
    }

    [Fact]
    public void ByteArrayOfTheWrongLengthIsRejectedByWrite()
    {
        var buffer = new byte[Blocks.Size];
        var value = new Blocks { Id = new byte[15], Pad = new byte[4] };
        Assert.Throws<ArgumentException>(() => value.Write(buffer));
    }

    [Fact]
    public void WriteRejectsAShortDestination()
    {
        var error = Assert.Throws<ArgumentException>(() => BigValue.Write(new byte[AllTypesBig.Size - 1]));
        Assert.Equal("destination", error.ParamName);
    }
}
