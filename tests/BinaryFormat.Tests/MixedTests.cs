using BinaryFormat.Tests.Layouts;
using static BinaryFormat.Tests.TestData;

namespace BinaryFormat.Tests;

/// <summary>Signed rules, enum flags, out-of-order declarations, conditional nested layouts and context in nested rules.</summary>
public class MixedTests
{
    //                     Delta Direction Features HeaderLength HasAligned Compression Table.Offset
    private const string Valid = "FD" + "FFFF" + "0100" + "0A00" + "01" + "0200" + "0000000000010000";

    [Fact]
    public void ReadsFieldsInOffsetOrderWhateverTheDeclarationOrder()
    {
        var value = Mixed.Read(Hex(Valid));
        Assert.Equal(-3, value.Delta);
        Assert.Equal(-1, value.Direction);
        Assert.Equal(Features.Dirty, value.Features);
        Assert.Equal(10, value.HeaderLength);
        Assert.Equal(2, value.Compression);   // present: HeaderLength 10 > 8
        Assert.Equal(0x10000ul, value.Table.Offset);

        var bytes = Hex(Valid);
        Put(bytes, 5, "0800");                 // HeaderLength 8: Compression absent
        value = Mixed.Read(bytes);
        Assert.Equal(0, value.Compression);

        var buffer = new byte[Mixed.Size];
        buffer.AsSpan().Fill(0x99);
        value.Compression = 7;
        value.Write(buffer);
        Assert.Equal("9999", Hex(buffer.AsSpan(8, 2)));
    }

    [Theory]
    [InlineData(0, "FA", "Delta", "-6 is outside -5..5")]
    [InlineData(0, "06", "Delta", "6 is outside -5..5")]
    [InlineData(1, "0000", "Direction", "0 is not one of -1, 1")]
    [InlineData(1, "FEFF", "Direction", "-2 is not one of -1, 1")]
    public void SignedRules(int offset, string patch, string member, string description)
    {
        var bytes = Hex(Valid);
        Put(bytes, offset, patch);
        var error = Assert.Throws<BinaryFormatException>(() => Mixed.Read(bytes, 2)).Error;
        Assert.Equal($"Mixed.{member} at offset {offset + 2}: {description}", error.Message);
    }

    [Fact]
    public void EnumFlags()
    {
        var value = Mixed.Read(Hex(Valid));
        Assert.Equal(0ul, value.FeaturesUnknownBits);
        value.Features = Features.Dirty | (Features)0x8004;
        Assert.Equal(0x8004ul, value.FeaturesUnknownBits);
        var error = Assert.Single(value.Validate());
        Assert.Equal(BinaryFormatRule.UnknownFlags, error.Rule);
        Assert.Equal("Features", error.MemberPath);
    }

    [Fact]
    public void ConditionalNestedLayoutAndContextReachNestedRules()
    {
        var value = Mixed.Read(Hex(Valid));
        value.Table.Offset = 0x10200;
        Assert.Empty(value.Validate());
        var context = new ValidationContext().Set("ClusterSize", 0x10000);
        var error = Assert.Single(value.Validate(context, 1000));
        Assert.Equal("Mixed.Table.Offset at offset 1010: 66048 is not a multiple of 65536", error.Message);

        value.HasAligned = false;                 // absent: neither validated nor written
        Assert.Empty(value.Validate(context, 1000));
        var buffer = new byte[Mixed.Size];
        buffer.AsSpan().Fill(0x99);
        value.Write(buffer);
        Assert.Equal("9999999999999999", Hex(buffer.AsSpan(10, 8)));
        Assert.Equal(0ul, Mixed.Read(buffer).Table.Offset);
    }
}
