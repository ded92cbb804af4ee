using BinaryFormat;

namespace BinaryFormat.Tests.Samples;

// Real formats declared as a user would, read from samples made by the real tools.

/// <summary>ZIP local file header, followed by its name, extra field and data (APPNOTE 4.3.7).</summary>
[BinaryFormat(ByteOrder.LittleEndian)]
public partial class ZipLocalFile
{
    [Field, Magic(0x04034B50)] public uint Signature;
    [Field] public ushort VersionNeeded;
    [Field] public ushort Flags;
    [Field] public ushort Method;
    [Field] public ushort ModifiedTime;
    [Field] public ushort ModifiedDate;
    [Field] public uint Crc32;
    [Field] public uint CompressedSize;
    [Field] public uint UncompressedSize;
    [Field] public ushort NameLength;
    [Field] public ushort ExtraLength;
    [Field, Length(nameof(NameLength))] public string Name = "";
    [Field, Length(nameof(ExtraLength))] public byte[] Extra = [];
    [Field, Length(nameof(CompressedSize))] public byte[] Data = [];
}

/// <summary>ZIP central directory file header (APPNOTE 4.3.12).</summary>
[BinaryFormat(ByteOrder.LittleEndian)]
public partial class ZipCentralEntry
{
    [Field, Magic(0x02014B50)] public uint Signature;
    [Field] public ushort VersionMadeBy;
    [Field] public ushort VersionNeeded;
    [Field] public ushort Flags;
    [Field] public ushort Method;
    [Field] public ushort ModifiedTime;
    [Field] public ushort ModifiedDate;
    [Field] public uint Crc32;
    [Field] public uint CompressedSize;
    [Field] public uint UncompressedSize;
    [Field] public ushort NameLength;
    [Field] public ushort ExtraLength;
    [Field] public ushort CommentLength;
    [Field] public ushort DiskStart;
    [Field] public ushort InternalAttributes;
    [Field] public uint ExternalAttributes;
    [Field] public uint LocalHeaderOffset;
    [Field, Length(nameof(NameLength))] public string Name = "";
    [Field, Length(nameof(ExtraLength))] public byte[] Extra = [];
    [Field, Length(nameof(CommentLength))] public string Comment = "";
}

/// <summary>ZIP end of central directory record (APPNOTE 4.3.16).</summary>
[BinaryFormat(ByteOrder.LittleEndian)]
public partial class ZipEndOfCentralDirectory
{
    [Field, Magic(0x06054B50)] public uint Signature;
    [Field] public ushort DiskNumber;
    [Field] public ushort CentralDirectoryDisk;
    [Field] public ushort EntriesOnDisk;
    [Field] public ushort EntryCount;
    [Field] public uint CentralDirectorySize;
    [Field] public uint CentralDirectoryOffset;
    [Field] public ushort CommentLength;
    [Field, Length(nameof(CommentLength))] public string Comment = "";
}

/// <summary>
/// The ELF64 file header of either byte order: <c>EI_DATA</c> (byte 5) says which, 1 little-endian and 2 big-endian.
/// The magic before it is declared little-endian, so it reads the same bytes either way.
/// </summary>
[BinaryFormat(ByteOrder.LittleEndian), ByteOrderFrom(nameof(Data), Little = 1, Big = 2)]
public partial struct Elf64Header
{
    [Field, Magic(0x464C457F)] public uint Magic;
    [Field, Magic(2)] public byte Class;
    [Field] public byte Data;
    [Field] public byte IdentVersion;
    [Field] public byte OsAbi;
    [Field(16)] public ushort Type;
    [Field] public ushort Machine;
    [Field] public uint Version;
    [Field] public ulong Entry;
    [Field] public ulong ProgramHeaderOffset;
    [Field] public ulong SectionHeaderOffset;
    [Field] public uint Flags;
    [Field] public ushort HeaderSize;
    [Field] public ushort ProgramHeaderSize;
    [Field] public ushort ProgramHeaderCount;
    [Field] public ushort SectionHeaderSize;
    [Field] public ushort SectionHeaderCount;
    [Field] public ushort SectionNameTableIndex;
}

[BinaryFormat(ByteOrder.LittleEndian)]
public partial struct Elf64ProgramHeader
{
    [Field] public uint Type;
    [Field] public uint Flags;
    [Field] public ulong Offset;
    [Field] public ulong VirtualAddress;
    [Field] public ulong PhysicalAddress;
    [Field] public ulong FileSize;
    [Field] public ulong MemorySize;
    [Field] public ulong Alignment;
}

[BinaryFormat(ByteOrder.LittleEndian)]
public partial struct Elf64SectionHeader
{
    [Field] public uint Name;
    [Field] public uint Type;
    [Field] public ulong Flags;
    [Field] public ulong Address;
    [Field] public ulong Offset;
    [Field] public ulong Size;
    [Field] public uint Link;
    [Field] public uint Info;
    [Field] public ulong Alignment;
    [Field] public ulong EntrySize;
}

/// <summary>A name in an ELF string table.</summary>
[BinaryFormat]
public partial class ElfName
{
    [Field, NullTerminated, Encoding(TextEncoding.Ascii)] public string Text = "";
}

/// <summary>What a PNG chunk holds, chosen by its type.</summary>
public interface IPngChunkData;

[BinaryFormat(GenerateView = true)]
public partial class PngImageHeader : IPngChunkData
{
    [Field] public uint Width;
    [Field] public uint Height;
    [Field] public byte BitDepth;
    [Field, OneOf(0, 2, 3, 4, 6)] public byte ColorType;
    [Field] public byte Compression;
    [Field] public byte Filter;
    [Field] public byte Interlace;
}

[BinaryFormat]
public partial struct PngColor
{
    [Field] public byte Red;
    [Field] public byte Green;
    [Field] public byte Blue;
}

[BinaryFormat]
public partial class PngPalette : IPngChunkData
{
    [Field, Length(ToEnd = true)] public PngColor[] Colors = [];
}

/// <summary>Any other chunk: its bytes, written back unchanged.</summary>
[BinaryFormat]
public partial class PngRawChunk : IPngChunkData
{
    [Field, Length(ToEnd = true)] public byte[] Bytes = [];
}

[BinaryFormat(GenerateView = true)]
public partial class PngChunk
{
    [Field] public uint Length;
    [Field] public uint Type;
    [Field, Length(nameof(Length)), SwitchOn(nameof(Type))]
    [Case(0x49484452, typeof(PngImageHeader)), Case(0x504C5445, typeof(PngPalette)), Case(typeof(PngRawChunk))]
    public IPngChunkData Data = new PngRawChunk();
    [Field, Checksum(ChecksumAlgorithm.Crc32, From = nameof(Type), To = nameof(Data))] public uint Crc;
}

[BinaryFormat(GenerateView = true)]
public partial class PngFile
{
    [Field, Magic(0x89504E470D0A1A0A)] public ulong Signature;
    [Field, Until(nameof(PngChunk.Type), 0x49454E44)] public PngChunk[] Chunks = [];
}

/// <summary>16 bytes held inline, so that GPT entries read without allocating.</summary>
[System.Runtime.CompilerServices.InlineArray(16)]
public struct Guid16
{
    private byte element;
}

/// <summary>The GPT header (UEFI 2.10, 5.3.2): its CRC-32 covers the header with the CRC field as zero.</summary>
[BinaryFormat(ByteOrder.LittleEndian, GenerateView = true)]
public partial struct GptHeader
{
    [Field, Magic(0x5452415020494645)] public ulong Signature;   // "EFI PART"
    [Field] public uint Revision;
    [Field] public uint HeaderSize;
    [Field, Checksum(ChecksumAlgorithm.Crc32, To = nameof(EntryArrayCrc))] public uint HeaderCrc;
    [Field, Reserved] public uint Reserved;
    [Field] public ulong CurrentLba;
    [Field] public ulong BackupLba;
    [Field] public ulong FirstUsableLba;
    [Field] public ulong LastUsableLba;
    [Field] public Guid16 DiskGuid;
    [Field] public ulong EntryArrayLba;
    [Field] public uint EntryCount;
    [Field, Range(128, 4096)] public uint EntrySize;
    [Field] public uint EntryArrayCrc;
}

[BinaryFormat(ByteOrder.LittleEndian, GenerateView = true)]
public partial struct GptEntry
{
    [Field] public Guid16 Type;
    [Field] public Guid16 Unique;
    [Field] public ulong FirstLba;
    [Field] public ulong LastLba;
    [Field] public ulong Attributes;
    [Field, Length(72), Encoding(TextEncoding.Utf16LE)] public string Name;
}

/// <summary>The partition entry array, with the stride the header gives.</summary>
[BinaryFormat(ByteOrder.LittleEndian, GenerateView = true)]
public partial class GptEntryArray
{
    [Field, Count(128), Stride(128)] public GptEntry[] Entries = [];
}

/// <summary>A fixed-size record with its own CRC, read inside a container without it (ReadUnchecked).</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial struct CheckedWord
{
    [Field] public uint Word;
    [Field, Checksum(ChecksumAlgorithm.Crc32, From = nameof(Word), To = nameof(Word))] public uint Crc;
}

/// <summary>Fixed-size checked records as array elements and as a member after a variable one.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial class CheckedWords
{
    [Field] public byte Count;
    [Field, Count(nameof(Count))] public CheckedWord[] Words = [];
    [Field] public CheckedWord Last;
}
