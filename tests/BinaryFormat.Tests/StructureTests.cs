using BinaryFormat.Tests.Layouts;
using static BinaryFormat.Tests.TestData;

namespace BinaryFormat.Tests;

/// <summary>Nested layouts, conditional fields, untouched gaps and generic code over IBinaryFormat&lt;T&gt;.</summary>
public class StructureTests
{
    private const string ValidContainer = "CAFE" + "00000001" + "00000000" + "0010" + "EEEEEEEE" + "00000002" + "00000000" + "0020";

    [Fact]
    public void NestedLayoutsRoundTrip()
    {
        var container = Container.Read(Hex(ValidContainer));
        Assert.Equal(1u, container.First.Type);
        Assert.Equal((ushort)16, container.First.Length);
        Assert.Equal(2u, container.Second.Type);
        Assert.Equal((ushort)32, container.Second.Length);

        var buffer = new byte[Container.Size];
        buffer.AsSpan().Fill(0xEE);
        container.Write(buffer);
        Assert.Equal(ValidContainer, Hex(buffer));
    }

    [Fact]
    public void NestedErrorsCarryThePathAndTheAbsoluteOffset()
    {
        var bytes = Hex(ValidContainer);
        Put(bytes, 16 + 4, "00000001");     // Second.Reserved
        var error = Assert.Throws<BinaryFormatException>(() => Container.Read(bytes, 100)).Error;
        Assert.Equal("Container", error.TypeName);
        Assert.Equal("Second.Reserved", error.MemberPath);
        Assert.Equal(100 + 16 + 4, error.Offset);
        Assert.Equal("Container.Second.Reserved at offset 120: expected 0 (reserved), but got 0x00000001", error.Message);
    }

    [Fact]
    public void DoublyNestedErrorsCarryTheFullPath()
    {
        var bytes = Hex("00000020" + "5555" + ValidContainer);
        Put(bytes, 6 + 2 + 8, "0000");     // Body.First.Length = 0, outside 1..4096
        var error = Assert.Throws<BinaryFormatException>(() => Envelope.Read(bytes, 1 << 20)).Error;
        Assert.Equal("Envelope.Body.First.Length at offset 1048592: 0 is outside 1..4096", error.Message);
        Assert.Equal("Body.First.Length", error.MemberPath);
        Assert.Equal((1 << 20) + 16, error.Offset);
    }

    [Fact]
    public void ValidateCollectsErrorsFromAllNestedLayouts()
    {
        var container = Container.ReadUnchecked(Hex(ValidContainer));
        container.Magic = 0;
        container.First.Reserved = 7;
        container.Second.Length = 5000;
        container.Second.Reserved = 1;
        Assert.Equal(
        [
            "Container.Magic at offset 50: expected 0xCAFE, but got 0x0000",
            "Container.First.Reserved at offset 56: expected 0 (reserved), but got 0x00000007",
            "Container.Second.Reserved at offset 70: expected 0 (reserved), but got 0x00000001",
            "Container.Second.Length at offset 74: 5000 is outside 1..4096",
        ], container.Validate(null, 50).Select(e => e.Message));
    }

    [Fact]
    public void ConditionalFieldIsReadWrittenAndValidatedOnlyWhenPresent()
    {
        // Version 2: RefcountOrder (>= 3) is absent; its bytes hold 99, out of its 0..6 range, and must be ignored.
        var bytes = ValidHeader();
        Put(bytes, 4, "00000002");
        Put(bytes, 56, "00000063");
        var header = RuleHeader.Read(bytes, 0);
        Assert.Equal(4u, header.RefcountOrder); // Otherwise = 4
        Assert.Empty(header.Validate());

        header.RefcountOrder = 5;
        var buffer = new byte[RuleHeader.Size];
        buffer.AsSpan().Fill(0xAA);
        header.Write(buffer);
        Assert.Equal("AAAAAAAA", Hex(buffer.AsSpan(56, 4))); // not written

        // Version 3: present, read, validated and written.
        Put(bytes, 4, "00000003");
        var error = Assert.Throws<BinaryFormatException>(() => RuleHeader.Read(bytes, 0)).Error;
        Assert.Equal("RuleHeader.RefcountOrder at offset 56: 99 is outside 0..6", error.Message);
        Put(bytes, 56, "00000005");
        header = RuleHeader.Read(bytes, 0);
        Assert.Equal(5u, header.RefcountOrder);
        header.Write(buffer);
        Assert.Equal("00000005", Hex(buffer.AsSpan(56, 4)));
    }

    [Fact]
    public void ConditionOnABool()
    {
        var absent = Conditional.Read(Hex("05" + "00" + "DDCCBBAA" + "0000" + "00" + "0000" + "AB"));
        Assert.Equal(0u, absent.Checksum);
        var present = Conditional.Read(Hex("05" + "01" + "DDCCBBAA" + "0000" + "00" + "0000" + "AB"));
        Assert.Equal(0xAABBCCDDu, present.Checksum);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)] // Version > 1 fails
    [InlineData(2, true)]
    [InlineData(3, true)]
    [InlineData(4, false)] // Version <= 3 fails
    [InlineData(255, false)]
    public void SeveralConditionsMustAllHold(byte version, bool present)
    {
        var bytes = Hex("00" + "00" + "00000000" + "3412" + "00" + "0000" + "AB");
        bytes[0] = version;
        var value = Conditional.Read(bytes);
        Assert.Equal(present ? (ushort)0x1234 : (ushort)7, value.Extra);

        var buffer = new byte[Conditional.Size];
        buffer.AsSpan().Fill(0xAA);
        value.Extra = 0x5678;
        value.Write(buffer);
        Assert.Equal(present ? "7856" : "AAAA", Hex(buffer.AsSpan(6, 2)));
    }

    [Theory]
    [InlineData(-3, true)]
    [InlineData(-128, true)]
    [InlineData(-2, false)]
    [InlineData(0, false)]
    [InlineData(5, false)]
    [InlineData(127, false)]
    public void ConditionOnASignedMemberComparesSigned(sbyte delta, bool present)
    {
        var bytes = Hex("00" + "00" + "00000000" + "0000" + "00" + "FEFF" + "AB");
        bytes[8] = unchecked((byte)delta);
        var value = Conditional.Read(bytes);
        Assert.Equal(present ? (short)-2 : (short)-1, value.Negative); // Otherwise = -1
    }

    [Fact]
    public void AbsentFieldIsNotValidated()
    {
        // MagicWhenNot2 is present unless Version == 2; a wrong magic only matters when present.
        var bytes = Hex("02" + "00" + "00000000" + "0000" + "00" + "0000" + "00");
        Assert.True(Conditional.TryRead(bytes, out var value, out _));
        Assert.Equal((byte)0, value.MagicWhenNot2);
        bytes[0] = 3;
        Assert.False(Conditional.TryRead(bytes, 10, out _, out var error));
        Assert.Equal("Conditional.MagicWhenNot2 at offset 21: expected 0xAB, but got 0x00", error.Message);
    }

    [Fact]
    public void WriteLeavesUndeclaredBytesUntouched()
    {
        var header = RuleHeader.Read(ValidHeader());
        var buffer = new byte[RuleHeader.Size + 8];
        Random.Shared.NextBytes(buffer);
        var before = (byte[])buffer.Clone();
        header.Write(buffer.AsSpan(0, RuleHeader.Size));

        // The gap (54..55), the trailing padding (60..63) and everything after the layout keep their bytes.
        Assert.Equal(Hex(before.AsSpan(54, 2)), Hex(buffer.AsSpan(54, 2)));
        Assert.Equal(Hex(before.AsSpan(60)), Hex(buffer.AsSpan(60)));
        // Everything declared is what Read saw.
        var expected = ValidHeader();
        Assert.Equal(Hex(expected.AsSpan(0, 54)), Hex(buffer.AsSpan(0, 54)));
        Assert.Equal(Hex(expected.AsSpan(56, 4)), Hex(buffer.AsSpan(56, 4)));
    }

    [Fact]
    public void WriteOfANestedLayoutLeavesItsGapUntouched()
    {
        var buffer = new byte[Container.Size];
        buffer.AsSpan().Fill(0x77);
        Container.Read(Hex(ValidContainer)).Write(buffer);
        Assert.Equal("77777777", Hex(buffer.AsSpan(12, 4)));
    }

    [Fact]
    public void GenericCodeReadsWritesAndValidatesAnyLayout()
    {
        var file = new byte[4096];
        WriteAt(file, 100, RuleHeader.Read(ValidHeader()));
        WriteAt(file, 300, Container.Read(Hex(ValidContainer)));
        WriteAt(file, 400, new Point { X = 1, Y = 2 });

        Assert.Equal(RuleHeader.Read(ValidHeader()), ReadAt<RuleHeader>(file, 100));
        Assert.Equal(Container.Read(Hex(ValidContainer)), ReadAt<Container>(file, 300));
        Assert.Equal(new Point { X = 1, Y = 2 }, ReadAt<Point>(file, 400));

        Assert.Equal(64 + 26 + 8, SizeOf<RuleHeader>() + SizeOf<Container>() + SizeOf<Point>());

        file[300] = 0; // break the container's magic
        var error = Assert.Throws<BinaryFormatException>(() => ReadAt<Container>(file, 300)).Error;
        Assert.Equal("Container.Magic at offset 300: expected 0xCAFE, but got 0x00FE", error.Message);
        Assert.False(TryReadAt<Container>(file, 300, out var tryError));
        Assert.Equal(error.Message, tryError!.Message);

        Assert.False(TryReadAt<RuleHeader>(file, 4096 - 10, out tryError));
        Assert.Equal("RuleHeader at offset 4086: needs 64 bytes, but only 10 are available", tryError!.Message);

        var broken = RuleHeader.Read(ValidHeader());
        broken.Version = 1;
        Assert.Equal("RuleHeader.Version at offset 8: 1 is not one of 2, 3", Assert.Single(ValidateAt(broken, 4)).Message);
    }

    private static int SizeOf<T>() where T : IBinaryFormat<T> => T.Size;

    private static T ReadAt<T>(byte[] file, long position) where T : IBinaryFormat<T> =>
        T.Read(file.AsSpan((int)position), position);

    private static bool TryReadAt<T>(byte[] file, long position, out BinaryFormatError? error) where T : IBinaryFormat<T> =>
        T.TryRead(file.AsSpan((int)position), position, out _, out error);

    private static void WriteAt<T>(byte[] file, long position, T value) where T : IBinaryFormat<T> =>
        value.Write(file.AsSpan((int)position, T.Size));

    private static IReadOnlyList<BinaryFormatError> ValidateAt<T>(T value, long position) where T : IBinaryFormat<T> =>
        value.Validate(null, position);
}
