namespace BinaryFormat.Generator.Tests;

/// <summary>Representative user code that the snapshot, cacheability and analyzer tests feed to the generator.</summary>
internal static class TestInputs
{
    public const string BigEndianHeader = """
        using BinaryFormat;

        namespace Sample.Images;

        /// <summary>Uses every rule attribute once.</summary>
        [BinaryFormat(ByteOrder.BigEndian, Size = 72)]
        public partial struct ImageHeader
        {
            [Field(0), Magic(0x514649FB)] public uint Magic;
            [Field(4), OneOf(2, 3)] public uint Version;
            [Field(8), Reserved] public uint Reserved0;
            [Field(12), Range(9, 21)] public uint ClusterBits;
            [Field(16)] public uint ClusterSize;
            [Field(20), AlignedTo(512)] public ulong VirtualSize;
            [Field(28), AlignedTo(nameof(ClusterSize))] public ulong L1TableOffset;
            [Field(36), AlignedTo(ContextKey = "SectorSize")] public ulong DataOffset;
            [Field(44), FlagsField(0b11, RejectUnknown = true)] public ulong IncompatibleFeatures;
            [Field(52), FlagsField(0x1)] public ushort Hints;
            [Field(54), PresentWhen(nameof(Version), Comparison.GreaterOrEqual, 3, Otherwise = 4)] public uint RefcountOrder;
            [Field(58), PresentWhen(nameof(Version), Comparison.Equal, 3), PresentWhen(nameof(ClusterBits), Comparison.LessThan, 20)] public ushort Extra;
            [Field(60)] public long Timestamp { get; set; }

            partial void OnValidate(ref BinaryFormatValidator validator)
            {
                if (ClusterSize != 0 && ClusterSize != 1u << (int)ClusterBits)
                    validator.Report(nameof(ClusterSize), 16, ClusterSize.ToString(), "1 << ClusterBits");
            }
        }
        """;

    public const string LittleEndianWithOverride = """
        using BinaryFormat;

        namespace Sample.Mixed;

        public enum Kind : ushort { None = 0, File = 1, Directory = 2 }

        public enum Signed : sbyte { Minus = -1, Zero = 0 }

        [BinaryFormat(ByteOrder.LittleEndian)]
        public partial struct AllTypes
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
            [Field(33)] public Signed Sign;
            [Field(34, ByteOrder = ByteOrder.BigEndian)] public uint NetworkOrder;
            [Field(38, ByteOrder = ByteOrder.LittleEndian)] public ushort ExplicitLittle;
        }
        """;

    public const string Nested = """
        using BinaryFormat;

        namespace Sample.Nested;

        [BinaryFormat]
        public partial struct Extension
        {
            [Field(0)] public uint Type;
            [Field(4), Reserved] public uint Reserved;
            [Field(8), Range(1, 4096)] public ushort Length;
        }

        public static partial class Formats
        {
            internal partial class Inner
            {
                [BinaryFormat(ByteOrder.BigEndian)]
                internal partial struct Container
                {
                    [Field(0), Magic(0xCAFE)] public ushort Magic;
                    [Field(2)] public Extension First;
                    [Field(16)] public Extension Second;
                }
            }
        }
        """;

    public const string ClassAndRecord = """
        using BinaryFormat;

        namespace Sample.Kinds;

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
        """;

    // `global using System;` stands for the ImplicitUsings most projects have; see GeneratedCodeNeedsNoUsings for without.
    public const string ByteBlocks = """
        global using System;
        using System.Runtime.CompilerServices;
        using BinaryFormat;

        namespace Sample.Blocks;

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
            [Field(28), Reserved] public uint Pad;
        }
        """;

    /// <summary>Sequential members, lengths from fields, strings and arrays of every kind.</summary>
    public const string VariableLength = """
        using System;
        using BinaryFormat;

        namespace Sample.Variable;

        public enum Color : byte { Red = 1, Green = 2 }

        [BinaryFormat(ByteOrder.LittleEndian)]
        public partial struct Entry
        {
            [Field, Range(0, 1000)] public ushort Id;
            [Field] public Color Color;
        }

        [BinaryFormat(ByteOrder.BigEndian)]
        public partial class Record
        {
            [Field, Magic(0x52)] public byte Tag;
            [Field] public uint Length;
            [Field] public byte NameLength;
            [Field] public ushort Count;
            [Field] public byte Stride;
            [Field, Length(nameof(Length))] public byte[] Data = [];
            [Field, Length(nameof(NameLength)), Encoding(TextEncoding.Utf16LE)] public string Name = "";
            [Field, Length(8), Encoding(TextEncoding.Ascii)] public string Label = "";
            [Field, NullTerminated] public string Note = "";
            [Field, Count(nameof(Count)), Stride(nameof(Stride))] public Entry[] Entries = [];
            [Field, Count(2)] public Color[] Colors = [];
            [Field, Until(0)] public ushort[] Words = [];
            [Field, Until(nameof(Record.Tag), 0)] public Record[] Children = [];
            [Field, PadTo(8), Reserved] public byte[] Padding = [];
            [Field, Length(ToEnd = true)] public ReadOnlyMemory<byte> Rest;
        }
        """;

    /// <summary>A member whose layout is chosen by a tag, with a raw-bytes fallback.</summary>
    public const string Tagged = """
        using BinaryFormat;

        namespace Sample.Tagged;

        public interface IBody;

        [BinaryFormat] public partial struct Numbers : IBody { [Field, Range(0, 9)] public uint A; }

        [BinaryFormat] public partial class Raw : IBody { [Field, Length(ToEnd = true)] public byte[] Bytes = []; }

        [BinaryFormat]
        public partial class Message
        {
            [Field] public ushort Kind;
            [Field] public ushort Length;
            [Field, Length(nameof(Length)), SwitchOn(nameof(Kind)), Case(1, typeof(Numbers)), Case(2, typeof(Numbers)), Case(7, typeof(Raw)), Case(typeof(Raw))]
            public IBody Body = new Raw();
            [Field, Checksum(ChecksumAlgorithm.Crc32, From = nameof(Length), To = nameof(Body))] public uint Crc;
        }
        """;

    public const string Bitfields = """
        using BinaryFormat;

        namespace Sample.Net;

        [System.Flags]
        public enum TcpFlags : ushort { None = 0, Fin = 1, Syn = 2, Ack = 16 }

        /// <summary>Bitfields of every property kind: integer with a range, reserved bits, a flags enum and a single bool.</summary>
        [BinaryFormat(ByteOrder.BigEndian)]
        public partial struct Segment
        {
            [Field] public ushort Port;
            [Field] public ushort OffsetAndFlags;
            [Bits(nameof(OffsetAndFlags), 12, 4), Range(5, 15)] public partial byte DataOffset { get; set; }
            [Bits(nameof(OffsetAndFlags), 9, 3), Reserved] internal partial byte ReservedBits { get; set; }
            [Bits(nameof(OffsetAndFlags), 0, 9)] public partial TcpFlags Flags { get; set; }
            [Field] public ulong Entry;
            [Bits(nameof(Entry), 63, 1)] public partial bool Copied { get; set; }
            [Bits(nameof(Entry), 9, 47), OneOf(0, 1, 2)] public partial ulong HostSector { get; set; }
        }
        """;

    public const string RunTimeByteOrderAndArguments = """
        using BinaryFormat;

        namespace Sample.Elf;

        /// <summary>Byte order from an earlier field; the magic before it keeps the declared order.</summary>
        [BinaryFormat(ByteOrder.LittleEndian), ByteOrderFrom(nameof(Data), Little = 1, Big = 2)]
        public partial struct Ident
        {
            [Field] public uint Magic;
            [Field] public byte Data;
            [Field] public ushort Type;
            [Field(ByteOrder = ByteOrder.BigEndian)] public uint AlwaysBig;
            [Field, Count(2)] public uint[] Pair;
        }

        /// <summary>Byte order and presence passed in by the caller or the container.</summary>
        [BinaryFormat, ByteOrderFrom(nameof(Order))]
        public partial class Extra
        {
            [Argument] public ByteOrder Order;
            [Argument] public uint Size;
            [Field, PresentWhen(nameof(Size), Comparison.GreaterOrEqual, 8)] public ulong First;
            [Field, Length(ToEnd = true)] public byte[] Rest = [];
        }

        [BinaryFormat(ByteOrder.BigEndian)]
        public partial class Container
        {
            [Field] public ByteOrder Order;
            [Field] public uint ExtraSize;
            [Field, Length(nameof(ExtraSize)), Args(nameof(Order), nameof(ExtraSize))] public Extra Extra = new();
        }
        """;

    /// <summary>Views: a GPT-like table with a stride, a PNG-like file of checksummed chunks, bitfields, a switch, arguments.</summary>
    public const string Views = """
        using System.Runtime.CompilerServices;
        using BinaryFormat;

        namespace Sample.Views;

        [InlineArray(16)] public struct Guid16 { private byte element; }

        [BinaryFormat(ByteOrder.LittleEndian, GenerateView = true)]
        public partial struct PartitionEntry
        {
            [Field] public Guid16 Type;
            [Field] public ulong FirstLba;
            [Field] public ulong Attributes;
            [Bits(nameof(Attributes), 63, 1)] public partial bool ReadOnly { get; set; }
        }

        [BinaryFormat(ByteOrder.LittleEndian, GenerateView = true)]
        public partial class PartitionTable
        {
            [Field, Magic(0x54504721)] public uint Signature;
            [Field] public uint Count;
            [Field, Range(24, 512)] public uint EntrySize;
            [Field, Count(nameof(Count)), Stride(nameof(EntrySize))] public PartitionEntry[] Entries = [];
        }

        [BinaryFormat(GenerateView = true)]
        public partial class Chunk
        {
            [Field] public uint Length;
            [Field] public uint Type;
            [Field, Length(nameof(Length))] public byte[] Data = [];
            [Field, Checksum(ChecksumAlgorithm.Crc32, From = nameof(Type), To = nameof(Data))] public uint Crc;
        }

        [BinaryFormat(GenerateView = true)]
        public partial class ChunkFile
        {
            [Field, Magic(0x89504E47)] public uint Signature;
            [Field, NullTerminated] public string Title = "";
            [Field, Until(nameof(Chunk.Type), 0x49454E44)] public Chunk[] Chunks = [];
        }

        [BinaryFormat(GenerateView = true), ByteOrderFrom(nameof(Order))]
        public partial class Extra
        {
            [Argument] public ByteOrder Order;
            [Argument] public uint Size;
            [Field, PresentWhen(nameof(Size), Comparison.GreaterOrEqual, 8)] public ulong First;
            [Field, Length(ToEnd = true)] public byte[] Rest = [];
        }

        public interface IShape;

        [BinaryFormat(GenerateView = true)] public partial struct Circle : IShape { [Field] public uint Radius; }

        /// <summary>A switched member without a length or a fallback: the view measures the case, and refuses an unknown tag.</summary>
        [BinaryFormat(GenerateView = true)]
        public partial class Drawing
        {
            [Field] public byte Kind;
            [Field, SwitchOn(nameof(Kind)), Case(1, typeof(Circle))] public IShape Shape = new Circle();
            [Field] public byte End;
        }

        [BinaryFormat(ByteOrder.BigEndian, GenerateView = true)]
        public partial class Container
        {
            [Field] public ByteOrder Order;
            [Field] public uint ExtraSize;
            [Field, Length(nameof(ExtraSize)), Args(nameof(Order), nameof(ExtraSize))] public Extra Extra = new();
        }
        """;

    public static readonly string[] All = [BigEndianHeader, LittleEndianWithOverride, Nested, ClassAndRecord, ByteBlocks, VariableLength, Tagged, Bitfields, RunTimeByteOrderAndArguments, Views];

    /// <summary>
    /// <paramref name="input"/> with a view asked for on every layout, to prove views compile for every kind of member.
    /// </summary>
    public static string WithViews(string input) => System.Text.RegularExpressions.Regex.Replace(input,
        @"\[BinaryFormat(\((?<args>[^)]*)\))?(?=[\],])",
        m => m.Groups["args"].Value.Length == 0 ? "[BinaryFormat(GenerateView = true)" : $"[BinaryFormat({m.Groups["args"].Value}, GenerateView = true)");
}
