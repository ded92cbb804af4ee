using System.Buffers.Binary;
using BinaryFormat;

// Reads, validates and writes through the packaged generator and runtime; PackageConsumerTests asserts this output.
var bytes = Convert.FromHexString("4246494C" + "0002" + "0000" + "0000000000001000" + "0000000000000001" + "68656C6C6F000000");
var header = FileHeader.Read(bytes);
Console.WriteLine($"version={header.Version} length={header.Length} flags={header.Flags} name={System.Text.Encoding.ASCII.GetString(header.Name).TrimEnd('\0')}");
Console.WriteLine($"size={FileHeader.Size} generic-size={SizeOf<FileHeader>()}");

BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), 7);
Console.WriteLine(FileHeader.TryRead(bytes, 4096, out _, out var error) ? "accepted" : error.Message);

header.Flags = 0b110;
foreach (var problem in header.Validate(null, 0))
    Console.WriteLine(problem.Message);

var output = new byte[FileHeader.Size];
header.Write(output);
Console.WriteLine(Convert.ToHexString(output));

static int SizeOf<T>() where T : IBinaryFormat<T> => T.Size;

[BinaryFormat(ByteOrder.BigEndian)]
public partial struct FileHeader
{
    [Field(0), Magic(0x4246494C)] public uint Magic;
    [Field(4), OneOf(1, 2)] public ushort Version;
    [Field(6), Reserved] public ushort Reserved;
    [Field(8), AlignedTo(512)] public ulong Length;
    [Field(16), FlagsField(0b11, RejectUnknown = true)] public ulong Flags;
    [Field(24, Length = 8)] public byte[] Name;
}
