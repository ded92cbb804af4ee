using BinaryFormat.Tests.Layouts;
using static BinaryFormat.Tests.TestData;

namespace BinaryFormat.Tests;

/// <summary>Sequential members, lengths from fields, strings and arrays: exact bytes, round trips, short input and errors.</summary>
public class VariableLengthTests
{
    [Fact]
    public void MembersWithoutOffsetsFollowThePreviousOne()
    {
        // A at 0, B at 2, AtEight at its explicit 8, AfterEight right after it at 9.
        Assert.Equal(17, Sequential.Size);
        var value = new Sequential { A = 0x0102, B = 0x03040506, AtEight = 7, AfterEight = 0x08 };
        var bytes = new byte[Sequential.Size];
        value.Write(bytes);
        Assert.Equal("0201" + "06050403" + "0000" + "07" + "0800000000000000", Hex(bytes));
        Assert.Equal(value, Sequential.Read(bytes));
        Assert.Equal(Sequential.Size, value.GetEncodedSize());
    }

    [Fact]
    public void LengthFieldIsFilledInByWriteAndReadTakesThatManyBytes()
    {
        var value = new Tlv { Type = 7, Length = 999, Data = [0xAA, 0xBB, 0xCC], Trailer = 0x1234 };
        Assert.Equal(13, value.GetEncodedSize());
        var bytes = new byte[20];
        value.Write(bytes);
        Assert.Equal("00000007" + "00000003" + "AABBCC" + "1234" + "00000000000000", Hex(bytes));

        var read = Tlv.Read(bytes, 0, out var consumed);
        Assert.Equal(13, consumed);
        Assert.Equal(3u, read.Length);
        Assert.Equal([0xAA, 0xBB, 0xCC], read.Data);
        Assert.Equal(0x1234, read.Trailer);
    }

    [Fact]
    public void ValidateReportsALengthFieldThatDisagreesWithItsData()
    {
        var value = new Tlv { Type = 7, Length = 5, Data = [1, 2, 3] };
        var error = Assert.Single(value.Validate(null, 100));
        Assert.Equal(BinaryFormatRule.Length, error.Rule);
        Assert.Equal("Tlv.Length at offset 104: expected 3 (the length of Data), but got 5", error.Message);
    }

    [Fact]
    public void TryReadSaysHowManyBytesAreNeeded()
    {
        var bytes = Hex("00000007" + "00000010" + "AABB");
        Assert.False(Tlv.TryRead(bytes, 0, out _, out _, out var error));
        Assert.Equal(BinaryFormatRule.ShortInput, error.Rule);
        Assert.Equal(8 + 16, error.BytesNeeded);
        Assert.Equal("Tlv.Data at offset 8: needs 16 bytes, but only 2 are available", error.Message);

        Assert.False(Tlv.TryRead(bytes.AsSpan(0, 5), 0, out _, out _, out error));
        Assert.Equal(8, error.BytesNeeded);

        // The trailer after the data is checked too.
        Assert.False(Tlv.TryRead(Hex("00000001" + "00000001" + "AA" + "12"), 0, out _, out _, out error));
        Assert.Equal(11, error.BytesNeeded);
        Assert.Equal("Tlv.Trailer at offset 9: needs 2 bytes, but only 1 are available", error.Message);
    }

    [Fact]
    public void HugeLengthsAreShortInputNotAllocations()
    {
        var bytes = Hex("00000007" + "FFFFFFFF" + "AABB");
        var error = Assert.Throws<BinaryFormatException>(() => Tlv.Read(bytes, 4096)).Error;
        Assert.Equal(BinaryFormatRule.ShortInput, error.Rule);
        Assert.Equal(4096 + 8, error.Offset);
        Assert.Equal(8 + 0xFFFFFFFFL, error.BytesNeeded);
    }

    [Fact]
    public void ALengthBeyondItsRangeIsTheRangeErrorBeforeAnyRead()
    {
        // Short input would ask the caller to read 4 GiB; the declared limit answers first.
        var bytes = Hex("00000007" + "FFFFFFFF" + "AABB");
        Assert.False(BoundedTlv.TryRead(bytes, 4096, out _, out _, out var error));
        Assert.Equal(BinaryFormatRule.Range, error.Rule);
        Assert.Equal("BoundedTlv.Length at offset 4100: 4294967295 is outside 0..1024", error.Message);
        Assert.Equal(BinaryFormatRule.ShortInput, Assert.Throws<BinaryFormatException>(() => BoundedTlv.Read(Hex("00000007" + "00000400" + "AABB"))).Error.Rule);
    }

    private const string StringBytes =
        "41424300" + "00000000" +         // Fixed: "ABC", zero-padded to 8 (ASCII)
        "05" + "68C3A96C6C" +              // Utf8Length 5, "héll"
        "E9746500" +                       // Latin-1 "éte", NUL
        "3100A9030000" +                   // UTF-16LE "1Ω", NUL
        "0400" + "00320393" +              // Utf16BELength 4, UTF-16BE "2Γ"
        "0102";                            // Rest

    [Fact]
    public void StringsInEveryEncodingAndEveryWayToEnd()
    {
        var bytes = Hex(StringBytes);
        var value = Strings.Read(bytes, 0, out var consumed);
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal("ABC", value.Fixed);
        Assert.Equal("héll", value.Utf8);
        Assert.Equal("éte", value.Latin1);
        Assert.Equal("1Ω", value.Utf16LE);
        Assert.Equal("2Γ", value.Utf16BE);
        Assert.Equal([1, 2], value.Rest.ToArray());

        Assert.Equal(bytes.Length, value.GetEncodedSize());
        var written = new byte[bytes.Length];
        value.Write(written);
        Assert.Equal(StringBytes.Replace(" ", ""), Hex(written));
        Assert.Empty(value.Validate());
    }

    [Fact]
    public void StringsThatCannotBeEncodedAreValidationErrorsAndWriteRefusesThem()
    {
        var value = new Strings { Fixed = "ABCDEFGHI", Utf8 = "x", Latin1 = "Ω", Utf16LE = "", Utf16BE = "" };
        var errors = value.Validate();
        Assert.Equal(["Strings.Fixed at offset 0: expected at most 8 bytes, but the string takes 9",
                      "Strings.Utf8Length at offset 8: expected 1 (the length of Utf8), but got 0",
                      "Strings.Latin1 at offset 10: \"Ω\" cannot be encoded as Latin1"], errors.Select(e => e.Message));
        Assert.Throws<ArgumentException>(() => value.Write(new byte[64]));
    }

    [Fact]
    public void InvalidUtf8IsAReadError()
    {
        var bytes = Hex("0000000000000000" + "02" + "C328" + "00" + "0000" + "0000");
        var error = Assert.Throws<BinaryFormatException>(() => Strings.Read(bytes)).Error;
        Assert.Equal(BinaryFormatRule.Encoding, error.Rule);
        Assert.Equal("Strings.Utf8 at offset 9: the bytes are not valid Utf8", error.Message);
    }

    [Fact]
    public void MissingNulTerminatorIsShortInput()
    {
        var bytes = Hex("0000000000000000" + "00" + "4142");
        Assert.False(Strings.TryRead(bytes, 0, out _, out _, out var error));
        Assert.Equal(BinaryFormatRule.ShortInput, error.Rule);
        Assert.Equal(bytes.Length + 1, error.BytesNeeded);
    }

    private const string TableBytes =
        "02" + "03" + "04" +               // WordCount 2, EntryCount 3, EntryStride 4
        "1234" + "ABCD" +                  // Words
        "01" + "02" + "03" +               // Colors
        "0100" + "01" + "EE" +             // Entries[0]: Id 1, Red, stride padding
        "0200" + "02" + "EE" +
        "0300" + "03" + "EE";

    [Fact]
    public void CountedArraysOfPrimitivesEnumsAndStridedEntries()
    {
        var bytes = Hex(TableBytes);
        var value = Tables.Read(bytes, 0, out var consumed);
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal([0x1234, 0xABCD], value.Words);
        Assert.Equal([Color.Red, Color.Green, Color.Blue], value.Colors);
        Assert.Equal([(ushort)1, 2, 3], value.Entries.Select(e => e.Id));
        Assert.Equal(Color.Blue, value.Entries[2].Color);

        // Write over the bytes read: identical, including the bytes between strided entries.
        var copy = (byte[])bytes.Clone();
        value.Write(copy);
        Assert.Equal(TableBytes, Hex(copy));
    }

    [Fact]
    public void CountsAreFilledInOnWriteAndCheckedByValidate()
    {
        var value = new Tables { EntryStride = 3, Words = [1, 2, 3], Colors = [Color.Red, Color.Red, Color.Red], Entries = [new Entry { Id = 9 }] };
        Assert.Equal(["Tables.WordCount at offset 0: expected 3 (the count of Words), but got 0",
                      "Tables.EntryCount at offset 1: expected 1 (the count of Entries), but got 0"], value.Validate().Select(e => e.Message));
        var bytes = new byte[value.GetEncodedSize()];
        value.Write(bytes);
        Assert.Equal("03" + "01" + "03" + "000100020003" + "010101" + "0900" + "00", Hex(bytes));
        Assert.Empty(Tables.Read(bytes).Validate());
    }

    [Fact]
    public void ElementRulesReportTheElementPathAndAbsoluteOffset()
    {
        var bytes = Hex(TableBytes);
        bytes[10 + 4] = 0xE9; // Entries[1].Id = 0x03E9 = 1001
        bytes[10 + 5] = 0x03;
        var error = Assert.Throws<BinaryFormatException>(() => Tables.Read(bytes, 1000)).Error;
        Assert.Equal("Tables.Entries[1].Id at offset 1014: 1001 is outside 0..1000", error.Message);
    }

    [Fact]
    public void ConstantCountMismatchIsAValidationErrorAndAWriteError()
    {
        var value = new Tables { EntryStride = 3, Colors = [Color.Red] };
        Assert.Contains(value.Validate(), e => e.Message == "Tables.Colors at offset 3: expected 3 elements, but got 1");
        Assert.Throws<ArgumentException>(() => value.Write(new byte[64]));
    }

    [Fact]
    public void StrideSmallerThanTheElementIsAReadError()
    {
        var bytes = Hex("00" + "01" + "02" + "010203" + "0100" + "01");
        var error = Assert.Throws<BinaryFormatException>(() => Tables.Read(bytes)).Error;
        Assert.Equal(BinaryFormatRule.Length, error.Rule);
        Assert.Equal("Tables.Entries at offset 6: the stride 2 (EntryStride) is outside 3..2147483647", error.Message);
    }

    private const string ExtensionBytes =
        "0000000A" + "00000002" + "ABCD" +
        "12345678" + "00000000" +
        "00000000" + "00000001" + "FF" +   // the terminator: type 0 (its data is part of it)
        "0001" + "FFFF";

    [Fact]
    public void ArraysUntilATerminatorElement()
    {
        var bytes = Hex(ExtensionBytes);
        var value = HeaderExtensionArea.Read(bytes, 0, out var consumed);
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal([0x0Au, 0x12345678u, 0u], value.Extensions.Select(e => e.Type));
        Assert.Equal([(ushort)1, 0xFFFF], value.WordTerminated);
        var written = new byte[value.GetEncodedSize()];
        value.Write(written);
        Assert.Equal(ExtensionBytes, Hex(written));

        // Without the terminator the input runs out.
        Assert.False(HeaderExtensionArea.TryRead(bytes.AsSpan(0, 18), 0, out _, out _, out var error));
        Assert.Equal(BinaryFormatRule.ShortInput, error.Rule);
        Assert.Equal("HeaderExtensionArea.Extensions[2] at offset 18: needs 8 bytes, but only 0 are available", error.Message);

        value.Extensions = value.Extensions[..2];
        Assert.Equal("HeaderExtensionArea.Extensions at offset 0: expected the last element to be the terminator (Type = 0)",
            Assert.Single(value.Validate()).Message);
    }

    [Fact]
    public void ArraysUntilTheirByteLengthIsUsedUp()
    {
        var bytes = Hex("0600" + "0100" + "01" + "0200" + "02" + "00000001" + "00000001" + "AA" + "0000" + "00000002" + "00000000" + "0000");
        var value = ByLength.Read(bytes, 0, out var consumed);
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(2, value.Entries.Length);
        Assert.Equal([1u, 2u], value.Records.Select(r => r.Type));
        var written = new byte[value.GetEncodedSize()];
        value.Write(written);
        Assert.Equal(Hex(bytes), Hex(written));

        bytes[0] = 5; // not a multiple of the 3-byte entry
        Assert.Equal("ByLength.Entries at offset 2: the length 5 is not a multiple of the element size 3",
            Assert.Throws<BinaryFormatException>(() => ByLength.Read(bytes)).Error.Message);
    }

    [Fact]
    public void ANestedLayoutTakesExactlyTheLengthItsContainerGives()
    {
        var bytes = Hex("0005" + "0009" + "AABBCC" + "7E");
        var value = Framed.Read(bytes, 0, out var consumed);
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(9, value.Payload.Kind);
        Assert.Equal([0xAA, 0xBB, 0xCC], value.Payload.Body);
        Assert.Equal(0x7E, value.End);

        value.PayloadLength = 0;
        value.Payload.Body = [1];
        var written = new byte[value.GetEncodedSize()];
        value.Write(written);
        Assert.Equal("0003" + "0009" + "01" + "7E", Hex(written));
    }

    [Fact]
    public void RecordsWalksATableWithoutAllocating()
    {
        var table = Hex("0100" + "01" + "EE" + "0200" + "02" + "EE" + "0300" + "03" + "EE");
        var sum = 0;
        foreach (var entry in BinaryLayout.Records<Entry>(table, 3, 4))
            sum += entry.Id;
        Assert.Equal(6, sum);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            foreach (var entry in BinaryLayout.Records<Entry>(table, 3, 4))
                sum += entry.Id;
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        table[4] = 0xFF;
        table[5] = 0xFF;
        var error = Assert.Throws<BinaryFormatException>(() =>
        {
            foreach (var entry in BinaryLayout.Records<Entry>(table, 3, 4, position: 512))
                sum += entry.Id;
        }).Error;
        Assert.Equal("Entry.Id at offset 516: 65535 is outside 0..1000", error.Message);
    }

    [Fact]
    public void ValidateAllocatesNothingWhenValid()
    {
        var value = Tables.Read(Hex(TableBytes));
        Assert.Empty(value.Validate());
        var errors = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
            errors += value.Validate().Count;
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0, errors);
    }

    [Fact]
    public void GenericCodeReadsAnyLayoutThroughTheInterface()
    {
        static (T Value, int Consumed) ReadAny<T>(ReadOnlySpan<byte> source) where T : IBinaryLayout<T> =>
            (T.Read(source, 0, out var consumed), consumed);

        Assert.Equal(13, ReadAny<Tlv>(Hex("00000007" + "00000003" + "AABBCC" + "1234")).Consumed);
        Assert.Equal(Sequential.Size, ReadAny<Sequential>(new byte[Sequential.Size]).Consumed);
    }
}

public class SizeMemberTests
{
    [Fact]
    public void AMemberNamedSizeMovesTheConstantToEncodedSize()
    {
        Assert.Equal(12, WithSizeMember.EncodedSize);
        var value = WithSizeMember.Read(Hex("00000001" + "0000000000001000"));
        Assert.Equal(0x1000ul, value.Size);
        static int SizeOf<T>() where T : IBinaryFormat<T> => T.Size;
        Assert.Equal(12, SizeOf<WithSizeMember>());
    }
}
