using BinaryFormat.Tests.Layouts;
using static BinaryFormat.Tests.TestData;

namespace BinaryFormat.Tests;

/// <summary>
/// Each rule broken on its own, read from a non-zero absolute position: the error names the type, the member path,
/// the absolute offset, the value found and what was expected; Read throws it and TryRead returns it.
/// </summary>
public class ValidationTests
{
    private const long Position = 1000;

    [Fact]
    public void ValidHeaderReads()
    {
        var header = RuleHeader.Read(ValidHeader(), Position);
        Assert.Equal(3u, header.Version);
        Assert.Equal(16u, header.ClusterBits);
        Assert.Equal(0x30000ul, header.L1TableOffset);
        Assert.Equal(4u, header.RefcountOrder);
        Assert.Empty(header.Validate(new ValidationContext().Set("SectorSize", 512), Position));
    }

    public static TheoryData<string, int, string, BinaryFormatRule, string, string, string, string> Violations => new()
    {
        // name, offset to patch, bytes, rule, member, value, expected, message
        { "magic", 0, "514649FA", BinaryFormatRule.Magic, "Magic", "0x514649FA", "0x514649FB",
            "RuleHeader.Magic at offset 1000: expected 0x514649FB, but got 0x514649FA" },
        { "one of", 4, "00000004", BinaryFormatRule.OneOf, "Version", "4", "2, 3",
            "RuleHeader.Version at offset 1004: 4 is not one of 2, 3" },
        { "reserved", 8, "00000100", BinaryFormatRule.Reserved, "Reserved0", "0x00000100", "0",
            "RuleHeader.Reserved0 at offset 1008: expected 0 (reserved), but got 0x00000100" },
        { "range low", 12, "00000008", BinaryFormatRule.Range, "ClusterBits", "8", "9..21",
            "RuleHeader.ClusterBits at offset 1012: 8 is outside 9..21" },
        { "range high", 12, "00000016", BinaryFormatRule.Range, "ClusterBits", "22", "9..21",
            "RuleHeader.ClusterBits at offset 1012: 22 is outside 9..21" },
        { "aligned to constant", 20, "0000000000100001", BinaryFormatRule.Alignment, "VirtualSize", "1048577", "a multiple of 512",
            "RuleHeader.VirtualSize at offset 1020: 1048577 is not a multiple of 512" },
        { "aligned to member", 28, "0000000000030200", BinaryFormatRule.Alignment, "L1TableOffset", "197120", "a multiple of 65536",
            "RuleHeader.L1TableOffset at offset 1028: 197120 is not a multiple of 65536" },
        { "unknown flags", 44, "8000000000000005", BinaryFormatRule.UnknownFlags, "Incompatible", "0x8000000000000004", "only bits of 0x3",
            "RuleHeader.Incompatible at offset 1044: unknown bits 0x8000000000000004 are set (known: 0x3)" },
        { "present field range", 56, "00000007", BinaryFormatRule.Range, "RefcountOrder", "7", "0..6",
            "RuleHeader.RefcountOrder at offset 1056: 7 is outside 0..6" },
        { "custom hook", 16, "00008000", BinaryFormatRule.Custom, "ClusterSize", "32768", "1 << ClusterBits",
            "RuleHeader.ClusterSize at offset 1016: expected 1 << ClusterBits, but got 32768" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void ReadThrowsTheViolation(string name, int offset, string patch, BinaryFormatRule rule, string member, string value, string expected, string message)
    {
        var bytes = ValidHeader();
        Put(bytes, offset, patch);
        if (name == "custom hook")
            Put(bytes, 28, "0000000000000000"); // keep the L1 alignment (to the cluster size) valid

        var exception = Assert.Throws<BinaryFormatException>(() => RuleHeader.Read(bytes, Position));
        var error = exception.Error;
        Assert.Equal(message, error.Message);
        Assert.Equal(message, exception.Message);
        Assert.Equal("RuleHeader", error.TypeName);
        Assert.Equal(member, error.MemberPath);
        Assert.Equal(Position + offset, error.Offset);
        Assert.Equal(rule, error.Rule);
        Assert.Equal(value, error.Value);
        Assert.Equal(expected, error.Expected);

        // TryRead reports the same error without throwing.
        Assert.False(RuleHeader.TryRead(bytes, Position, out _, out var tryError));
        Assert.Equal(message, tryError.Message);

        // Validate on the unchecked value finds exactly this one.
        var all = RuleHeader.ReadUnchecked(bytes).Validate(null, Position);
        Assert.Equal(message, Assert.Single(all).Message);
    }

    [Fact]
    public void ReadAtPositionZeroByDefault()
    {
        var bytes = ValidHeader();
        Put(bytes, 12, "00000008");
        var error = Assert.Throws<BinaryFormatException>(() => RuleHeader.Read(bytes)).Error;
        Assert.Equal("RuleHeader.ClusterBits at offset 12: 8 is outside 9..21", error.Message);
        Assert.False(RuleHeader.TryRead(bytes, out _, out var tryError));
        Assert.Equal(12, tryError.Offset);
        Assert.Equal(error.Message, Assert.Single(RuleHeader.ReadUnchecked(bytes).Validate()).Message);
    }

    [Fact]
    public void ReadingFromTheMiddleOfABufferUsesTheGivenPosition()
    {
        var file = At(4096, ValidHeader());
        Put(file, 4096 + 4, "00000001");
        var error = Assert.Throws<BinaryFormatException>(() => RuleHeader.Read(file.AsSpan(4096), 4096)).Error;
        Assert.Equal("RuleHeader.Version at offset 4100: 1 is not one of 2, 3", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(50)]
    [InlineData(63)]
    public void ShortInputSaysWhatWasNeededAndAvailable(int available)
    {
        var bytes = ValidHeader()[..available];
        var error = Assert.Throws<BinaryFormatException>(() => RuleHeader.Read(bytes, 7)).Error;
        Assert.Equal($"RuleHeader at offset 7: needs 64 bytes, but only {available} are available", error.Message);
        Assert.Equal(BinaryFormatRule.ShortInput, error.Rule);
        Assert.Equal("", error.MemberPath);
        Assert.Equal(7, error.Offset);
        Assert.Equal(available.ToString(), error.Value);
        Assert.Equal("64", error.Expected);

        Assert.False(RuleHeader.TryRead(bytes, 7, out _, out var tryError));
        Assert.Equal(error.Message, tryError.Message);
    }

    [Fact]
    public void TryReadSucceedsWithoutAnError()
    {
        Assert.True(RuleHeader.TryRead(ValidHeader(), Position, out var header, out var error));
        Assert.Null(error);
        Assert.Equal(0x514649FBu, header.Magic);
    }

    [Fact]
    public void TryReadNeverThrows()
    {
        // Count first-chance exceptions raised on this thread while TryRead runs over many broken inputs.
        int thrown = 0;
        int thread = Environment.CurrentManagedThreadId;
        EventHandler<System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs> handler = (_, _) =>
        {
            if (Environment.CurrentManagedThreadId == thread)
                Interlocked.Increment(ref thrown);
        };
        AppDomain.CurrentDomain.FirstChanceException += handler;
        int failures = 0;
        try
        {
            var random = new Random(1234);
            for (int i = 0; i < 2000; i++)
            {
                var bytes = ValidHeader()[..random.Next(0, RuleHeader.Size + 1)];
                if (bytes.Length > 0)
                    bytes[random.Next(bytes.Length)] ^= (byte)random.Next(1, 256);
                if (!RuleHeader.TryRead(bytes, i, out _, out var error))
                {
                    Assert.NotNull(error);
                    failures++;
                }
                if (!Container.TryRead(bytes, i, out _, out _))
                    failures++;
            }
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= handler;
        }
        Assert.Equal(0, thrown);
        Assert.True(failures > 1000, $"only {failures} failures: the inputs were not broken enough to test anything");
    }

    [Fact]
    public void ValidateReturnsEveryViolationInFieldOrderThenTheHook()
    {
        var header = new RuleHeader
        {
            Magic = 1,
            Version = 9,
            Reserved0 = 2,
            ClusterBits = 20,
            ClusterSize = 1000,           // the hook: not 1 << 20
            VirtualSize = 100,            // not a multiple of 512
            L1TableOffset = 1001,         // not a multiple of ClusterSize (1000)
            DataOffset = 100,             // not a multiple of the context's SectorSize
            Incompatible = 0b1100,
            Hints = 0xFFFF,               // unknown hints are allowed
            RefcountOrder = 9,            // present (version 9 >= 3) and outside 0..6
        };
        var errors = header.Validate(new ValidationContext().Set("SectorSize", 512), 100);
        Assert.Equal(
        [
            "RuleHeader.Magic at offset 100: expected 0x514649FB, but got 0x00000001",
            "RuleHeader.Version at offset 104: 9 is not one of 2, 3",
            "RuleHeader.Reserved0 at offset 108: expected 0 (reserved), but got 0x00000002",
            "RuleHeader.VirtualSize at offset 120: 100 is not a multiple of 512",
            "RuleHeader.L1TableOffset at offset 128: 1001 is not a multiple of 1000",
            "RuleHeader.DataOffset at offset 136: 100 is not a multiple of 512",
            "RuleHeader.Incompatible at offset 144: unknown bits 0x000000000000000C are set (known: 0x3)",
            "RuleHeader.RefcountOrder at offset 156: 9 is outside 0..6",
            "RuleHeader.ClusterSize at offset 116: expected 1 << ClusterBits, but got 1000",
        ], errors.Select(e => e.Message));
        Assert.Equal(
            [BinaryFormatRule.Magic, BinaryFormatRule.OneOf, BinaryFormatRule.Reserved, BinaryFormatRule.Alignment, BinaryFormatRule.Alignment,
             BinaryFormatRule.Alignment, BinaryFormatRule.UnknownFlags, BinaryFormatRule.Range, BinaryFormatRule.Custom],
            errors.Select(e => e.Rule));
        var custom = errors[^1];
        Assert.Equal(("ClusterSize", "1000", "1 << ClusterBits"), (custom.MemberPath, custom.Value, custom.Expected));

        // Read stops at the first. Write puts the magic back, so that is Version.
        var bytes = new byte[RuleHeader.Size];
        header.Write(bytes);
        var error = Assert.Throws<BinaryFormatException>(() => RuleHeader.Read(bytes, 100)).Error;
        Assert.Equal("RuleHeader.Version at offset 104: 9 is not one of 2, 3", error.Message);
    }

    [Fact]
    public void HookErrorsStopReadLikeDeclaredOnes()
    {
        var bytes = ValidHeader();
        Put(bytes, 12, "00000011"); // 17 cluster bits, but the cluster size says 16
        var error = Assert.Throws<BinaryFormatException>(() => RuleHeader.Read(bytes, 0)).Error;
        Assert.Equal(BinaryFormatRule.Custom, error.Rule);
        Assert.Equal("RuleHeader.ClusterSize at offset 16: expected 1 << ClusterBits, but got 65536", error.Message);
    }

    [Fact]
    public void ValidHeaderValidatesClean() =>
        Assert.Empty(RuleHeader.ReadUnchecked(ValidHeader()).Validate());

    [Fact]
    public void ReadUncheckedDoesNotValidate()
    {
        var bytes = new byte[RuleHeader.Size];
        var header = RuleHeader.ReadUnchecked(bytes);
        Assert.Equal(0u, header.Magic);
        Assert.NotEmpty(header.Validate());
    }

    [Fact]
    public void ContextKeyAlignmentIsCheckedOnlyWhenTheContextHasTheKey()
    {
        var header = RuleHeader.ReadUnchecked(ValidHeader());
        header.DataOffset = 520;
        Assert.Empty(header.Validate());                                                   // no context
        Assert.Empty(header.Validate(new ValidationContext().Set("ClusterSize", 512), 0)); // context without the key
        var error = Assert.Single(header.Validate(new ValidationContext().Set("SectorSize", 512), 0));
        Assert.Equal("RuleHeader.DataOffset at offset 36: 520 is not a multiple of 512", error.Message);
        Assert.Equal("a multiple of 512", error.Expected);
        Assert.Equal(BinaryFormatRule.Alignment, error.Rule);
        Assert.Empty(header.Validate(new ValidationContext().Set("SectorSize", 8), 0));
        Assert.True(RuleHeader.TryRead(WithDataOffset(520), out _, out _)); // Read has no context, so it cannot check it
    }

    private static byte[] WithDataOffset(ulong value)
    {
        var bytes = ValidHeader();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(36), value);
        return bytes;
    }

    [Fact]
    public void AlignmentToAMemberUsesThatMembersValue()
    {
        var header = RuleHeader.ReadUnchecked(ValidHeader());
        header.ClusterSize = 4096;
        header.ClusterBits = 12;
        header.L1TableOffset = 4096 * 3;
        Assert.Empty(header.Validate());
        header.L1TableOffset = 4096 * 3 + 512;
        var error = Assert.Single(header.Validate());
        Assert.Equal("RuleHeader.L1TableOffset at offset 28: 12800 is not a multiple of 4096", error.Message);
        Assert.Equal("a multiple of 4096", error.Expected);
    }

    [Fact]
    public void FlagsUnknownBitsAreExposedAndOnlyRejectedWhenAsked()
    {
        var header = RuleHeader.Read(ValidHeader());
        Assert.Equal(0x8000ul, header.HintsUnknownBits);   // bit 15 is unknown, but Hints does not reject
        Assert.Equal(0ul, header.IncompatibleUnknownBits);
        header.Incompatible = 0b111;
        Assert.Equal(0b100ul, header.IncompatibleUnknownBits);
        var error = Assert.Single(header.Validate());
        Assert.Equal(BinaryFormatRule.UnknownFlags, error.Rule);
        Assert.Equal("0x0000000000000004", error.Value);
    }

    [Fact]
    public void MagicIsWrittenWhateverTheMemberHoldsAndReservedAsItIsHeld()
    {
        var header = RuleHeader.Read(ValidHeader());
        header.Magic = 0;
        header.Reserved0 = 0xFFFFFFFF;
        var bytes = new byte[RuleHeader.Size];
        header.Write(bytes);
        Assert.Equal("514649FB", Hex(bytes.AsSpan(0, 4)));
        // Kept, so that rewriting a value read with ReadUnchecked loses nothing; Validate reports it.
        Assert.Equal("FFFFFFFF", Hex(bytes.AsSpan(8, 4)));
        Assert.Contains(header.Validate(), e => e.Rule == BinaryFormatRule.Reserved);
    }

    [Fact]
    public void ReservedByteBlocksNameTheFirstNonZeroByte()
    {
        var bytes = Hex("00000010" + "000102030405060708090A0B0C0D0E0F" + "4142434445464748" + "00000500" + "0000000000000000");
        var error = Assert.Throws<BinaryFormatException>(() => Blocks.Read(bytes, 10)).Error;
        Assert.Equal(BinaryFormatRule.Reserved, error.Rule);
        Assert.Equal("Pad", error.MemberPath);
        Assert.Equal(38, error.Offset);
        Assert.Equal("0x05", error.Value);
        Assert.Contains("byte 2", error.Message);

        bytes = Hex("00000010" + "000102030405060708090A0B0C0D0E0F" + "4142434445464748" + "00000000" + "00000000000000FF");
        error = Assert.Throws<BinaryFormatException>(() => Blocks.Read(bytes, 10)).Error;
        Assert.Equal("ReservedName", error.MemberPath);
        Assert.Equal(42, error.Offset);
        Assert.Equal("0xFF", error.Value);
    }
}
