using BinaryFormat;

namespace BinaryFormat.Tests.Layouts;

/// <summary>Members without offsets follow each other; the layout is still fixed-size.</summary>
[BinaryFormat(ByteOrder.LittleEndian)]
public partial struct Sequential
{
    [Field] public ushort A;
    [Field] public uint B;
    [Field(8)] public byte AtEight;
    [Field] public ulong AfterEight;
}

/// <summary>A type-length-value record: the length is filled in by Write.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial class Tlv
{
    [Field] public uint Type;
    [Field] public uint Length;
    [Field, Length(nameof(Length))] public byte[] Data = [];
    [Field] public ushort Trailer;
}

/// <summary>A TLV whose length has a declared limit, as qcow2's snapshot extra data has.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial class BoundedTlv
{
    [Field] public uint Type;
    [Field, Range(0, 1024)] public uint Length;
    [Field, Length(nameof(Length))] public byte[] Data = [];
}

public enum Color : byte { Red = 1, Green = 2, Blue = 3 }

/// <summary>Every way a string can end, in every encoding.</summary>
[BinaryFormat(ByteOrder.LittleEndian)]
public partial class Strings
{
    [Field, Encoding(TextEncoding.Ascii), Length(8)] public string Fixed = "";
    [Field] public byte Utf8Length;
    [Field, Length(nameof(Utf8Length))] public string Utf8 = "";
    [Field, NullTerminated, Encoding(TextEncoding.Latin1)] public string Latin1 = "";
    [Field, NullTerminated, Encoding(TextEncoding.Utf16LE)] public string Utf16LE = "";
    [Field] public ushort Utf16BELength;
    [Field, Length(nameof(Utf16BELength)), Encoding(TextEncoding.Utf16BE)] public string Utf16BE = "";
    [Field, Length(ToEnd = true)] public ReadOnlyMemory<byte> Rest;
}

/// <summary>A fixed-size table entry, read at a stride.</summary>
[BinaryFormat(ByteOrder.LittleEndian)]
public partial struct Entry
{
    [Field, Range(0, 1000)] public ushort Id;
    [Field] public Color Color;
}

/// <summary>Counted arrays of primitives, enums and entries; a strided table.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial class Tables
{
    [Field] public byte WordCount;
    [Field] public byte EntryCount;
    [Field] public byte EntryStride;
    [Field, Count(nameof(WordCount))] public ushort[] Words = [];
    [Field, Count(3)] public Color[] Colors = [];
    [Field, Count(nameof(EntryCount)), Stride(nameof(EntryStride))] public Entry[] Entries = [];
}

/// <summary>qcow2's header-extension shape: TLV records until one of type 0.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial class HeaderExtension
{
    [Field] public uint Type;
    [Field] public uint Length;
    [Field, Length(nameof(Length))] public byte[] Data = [];
}

[BinaryFormat(ByteOrder.BigEndian)]
public partial class HeaderExtensionArea
{
    [Field, Until(nameof(HeaderExtension.Type), 0)] public HeaderExtension[] Extensions = [];
    [Field, Until(0xFFFF)] public ushort[] WordTerminated = [];
}

/// <summary>Arrays that repeat until their byte length is used up.</summary>
[BinaryFormat(ByteOrder.LittleEndian)]
public partial class ByLength
{
    [Field] public ushort EntriesLength;
    [Field, Length(nameof(EntriesLength))] public Entry[] Entries = [];
    [Field, Length(ToEnd = true)] public Tlv[] Records = [];
}

/// <summary>A payload whose last member takes the rest of the length its container gives it.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial struct Payload
{
    [Field] public ushort Kind;
    [Field, Length(ToEnd = true)] public byte[] Body;
}

[BinaryFormat(ByteOrder.BigEndian)]
public partial struct Framed
{
    [Field] public ushort PayloadLength;
    [Field, Length(nameof(PayloadLength))] public Payload Payload;
    [Field] public byte End;
}

/// <summary>qcow2's header extension: data padded to a multiple of 8, the padding kept on a round trip.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial class PaddedExtension
{
    [Field] public uint Type;
    [Field] public uint Length;
    [Field, Length(nameof(Length))] public byte[] Data = [];
    [Field, PadTo(8)] public byte[] Padding = [];
}

[BinaryFormat(ByteOrder.BigEndian)]
public partial class PaddedArea
{
    [Field, Until(nameof(PaddedExtension.Type), 0)] public PaddedExtension[] Extensions = [];
}

/// <summary>Padding in the fixed head, and padding that must be zero.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial class Aligning
{
    [Field] public byte Kind;
    [Field, PadTo(4)] public byte[] HeadPadding = [];
    [Field] public byte NameLength;
    [Field, Length(nameof(NameLength))] public string Name = "";
    [Field, PadTo(4), Reserved] public byte[] NamePadding = [];
}

/// <summary>qcow2 calls a header field `size`: the size constant then is EncodedSize.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial struct WithSizeMember
{
    [Field] public uint Magic;
    [Field] public ulong Size;
}
