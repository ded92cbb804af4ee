using System.Runtime.CompilerServices;
using BinaryFormat;

namespace BinaryFormat.Tests.Layouts;

public enum Kind : ushort { None = 0, File = 1, Directory = 2 }

public enum Sign : sbyte { Minus = -1, Zero = 0, Plus = 1 }

public enum Wide : long { Small = 1, Big = 0x1122334455667788 }

/// <summary>Every scalar member type, big-endian.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial struct AllTypesBig
{
    [Field(0)] public byte U8;
    [Field(1)] public sbyte I8;
    [Field(2)] public short I16;
    [Field(4)] public ushort U16;
    [Field(6)] public int I32;
    [Field(10)] public uint U32;
    [Field(14)] public long I64;
    [Field(22)] public ulong U64;
    [Field(30)] public bool Flag;
    [Field(31)] public Kind Kind;
    [Field(33)] public Sign Sign;
    [Field(34)] public Wide Wide;
}

/// <summary>The same members, little-endian, declared as properties.</summary>
[BinaryFormat(ByteOrder.LittleEndian)]
public partial struct AllTypesLittle
{
    [Field(0)] public byte U8 { get; set; }
    [Field(1)] public sbyte I8 { get; set; }
    [Field(2)] public short I16 { get; set; }
    [Field(4)] public ushort U16 { get; set; }
    [Field(6)] public int I32 { get; set; }
    [Field(10)] public uint U32 { get; set; }
    [Field(14)] public long I64 { get; set; }
    [Field(22)] public ulong U64 { get; set; }
    [Field(30)] public bool Flag { get; set; }
    [Field(31)] public Kind Kind { get; set; }
    [Field(33)] public Sign Sign { get; set; }
    [Field(34)] public Wide Wide { get; set; }
}

[BinaryFormat(ByteOrder.BigEndian)]
public partial struct BigWithLittleField
{
    [Field(0, ByteOrder = ByteOrder.LittleEndian)] public uint Little;
    [Field(4)] public uint Default;
    [Field(8, ByteOrder = ByteOrder.BigEndian)] public ushort ExplicitBig;
}

[BinaryFormat(ByteOrder.LittleEndian)]
public partial struct LittleWithBigField
{
    [Field(0, ByteOrder = ByteOrder.BigEndian)] public uint Big;
    [Field(4)] public uint Default;
    [Field(8, ByteOrder = ByteOrder.LittleEndian)] public ushort ExplicitLittle;
}

/// <summary>A qcow2-like header with every rule; bytes 54..55 and 60..63 are declared by no field.</summary>
[BinaryFormat(ByteOrder.BigEndian, Size = 64)]
public partial struct RuleHeader
{
    [Field(0), Magic(0x514649FB)] public uint Magic;
    [Field(4), OneOf(2, 3)] public uint Version;
    [Field(8), Reserved] public uint Reserved0;
    [Field(12), Range(9, 21)] public uint ClusterBits;
    [Field(16)] public uint ClusterSize;
    [Field(20), AlignedTo(512)] public ulong VirtualSize;
    [Field(28), AlignedTo(nameof(ClusterSize))] public ulong L1TableOffset;
    [Field(36), AlignedTo(ContextKey = "SectorSize")] public ulong DataOffset;
    [Field(44), FlagsField(0b11, RejectUnknown = true)] public ulong Incompatible;
    [Field(52), FlagsField(0x1)] public ushort Hints;
    [Field(56), PresentWhen(nameof(Version), Comparison.GreaterOrEqual, 3, Otherwise = 4), Range(0, 6)] public uint RefcountOrder;

    partial void OnValidate(ref BinaryFormatValidator validator)
    {
        if (ClusterBits is >= 9 and <= 21 && ClusterSize != 1u << (int)ClusterBits)
            validator.Report(nameof(ClusterSize), 16, ClusterSize.ToString(System.Globalization.CultureInfo.InvariantCulture), "1 << ClusterBits");
    }
}

/// <summary>Conditions on bool, signed and several conditions that must all hold.</summary>
[BinaryFormat(ByteOrder.LittleEndian)]
public partial struct Conditional
{
    [Field(0)] public byte Version;
    [Field(1)] public bool HasChecksum;
    [Field(2), PresentWhen(nameof(HasChecksum), Comparison.Equal, 1)] public uint Checksum;
    [Field(6), PresentWhen(nameof(Version), Comparison.GreaterThan, 1, Otherwise = 7), PresentWhen(nameof(Version), Comparison.LessOrEqual, 3, Otherwise = 7)] public ushort Extra;
    [Field(8)] public sbyte Delta;
    [Field(9), PresentWhen(nameof(Delta), Comparison.LessThan, -2, Otherwise = -1)] public short Negative;
    [Field(11), PresentWhen(nameof(Version), Comparison.NotEqual, 2), Magic(0xAB)] public byte MagicWhenNot2;
}

[BinaryFormat(ByteOrder.BigEndian)]
public partial struct Extension
{
    [Field(0)] public uint Type;
    [Field(4), Reserved] public uint Reserved;
    [Field(8), Range(1, 4096)] public ushort Length;
}

[BinaryFormat(ByteOrder.BigEndian)]
public partial struct Container
{
    [Field(0), Magic(0xCAFE)] public ushort Magic;
    [Field(2)] public Extension First;
    [Field(16)] public Extension Second;
}

/// <summary>Two levels of nesting, at a non-zero offset.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial struct Envelope
{
    [Field(0)] public uint Length;
    [Field(6)] public Container Body;
}

[InlineArray(8)]
public struct Name8
{
    private byte element;
}

[BinaryFormat(ByteOrder.BigEndian, Size = 40)]
public partial struct Blocks
{
    [Field(0)] public uint Length;
    [Field(4, Length = 16)] public byte[] Id;
    [Field(20)] public Name8 Name;
    [Field(28, Length = 4), Reserved] public byte[] Pad;
    [Field(32), Reserved] public Name8 ReservedName;
}

[BinaryFormat(ByteOrder.BigEndian)]
public partial class Message
{
    [Field(0), Magic(0x4D)] public byte Tag { get; set; }
    [Field(1)] public ushort Id { get; set; }
    [Field(3), Range(0, 1000)] public int Length { get; set; }
}

[BinaryFormat(ByteOrder.LittleEndian)]
public partial record Point
{
    [Field(0)] public int X { get; set; }
    [Field(4)] public int Y { get; set; }
}

[BinaryFormat(ByteOrder.BigEndian)]
public partial record struct Pair
{
    [Field(0)] public ushort First { get; set; }
    [Field(2)] public ushort Second { get; set; }
}

[System.Flags]
public enum Features : ushort { None = 0, Dirty = 1, Corrupt = 2 }

[BinaryFormat(ByteOrder.BigEndian)]
public partial struct Aligned
{
    [Field(0), AlignedTo(ContextKey = "ClusterSize")] public ulong Offset;
}

/// <summary>Signed rules, enum flags, fields declared out of offset order, a conditional nested layout.</summary>
[BinaryFormat(ByteOrder.LittleEndian)]
public partial struct Mixed
{
    // Declared before the field it depends on, but at a later offset: conditions follow offsets, not source order.
    [Field(8), PresentWhen(nameof(HeaderLength), Comparison.GreaterThan, 8, Otherwise = 0)] public ushort Compression;
    [Field(0), Range(-5, 5)] public sbyte Delta;
    [Field(1), OneOf(-1, 1)] public short Direction;
    [Field(3), FlagsField(0x3, RejectUnknown = true)] public Features Features;
    [Field(5)] public ushort HeaderLength;
    [Field(7)] public bool HasAligned;
    [Field(10), PresentWhen(nameof(HasAligned), Comparison.Equal, 1)] public Aligned Table;
}
