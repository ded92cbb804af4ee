using System.IO.Compression;
using System.Text;
using BinaryFormat.Tests.Samples;

namespace BinaryFormat.Tests;

/// <summary>Real files made by real tools, declared and read as a user would, and written back byte for byte.</summary>
public class SampleFormatTests
{
    private static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Samples", name));

    [Fact]
    public void ZipFromInfoZipRoundTripsByteForByte()
    {
        var zip = Sample("sample.zip");
        var endAt = zip.AsSpan().LastIndexOf("PK\x05\x06"u8);
        var end = ZipEndOfCentralDirectory.Read(zip.AsSpan(endAt), endAt, out var endSize);
        Assert.Equal(zip.Length, endAt + endSize);
        Assert.Equal("sample archive", end.Comment);

        var copy = new byte[zip.Length];
        end.Write(copy.AsSpan(endAt));
        var names = new List<string>();
        var at = (int)end.CentralDirectoryOffset;
        foreach (var entry in BinaryLayout.Records<ZipCentralEntry>(zip.AsSpan(at, (int)end.CentralDirectorySize), end.EntryCount, position: at))
        {
            entry.Write(copy.AsSpan(at));
            at += entry.GetEncodedSize();
            names.Add(entry.Name);

            var local = ZipLocalFile.Read(zip.AsSpan((int)entry.LocalHeaderOffset), entry.LocalHeaderOffset, out var localSize);
            Assert.Equal(entry.Name, local.Name);
            Assert.Equal(localSize, local.GetEncodedSize());
            local.Write(copy.AsSpan((int)entry.LocalHeaderOffset));
            var content = local.Method == 8
                ? new StreamReader(new DeflateStream(new MemoryStream(local.Data), CompressionMode.Decompress)).ReadToEnd()
                : Encoding.ASCII.GetString(local.Data);
            Assert.Equal((int)local.UncompressedSize, content.Length);
        }
        Assert.Equal(["hello.txt", "notes/readme.md"], names);
        Assert.Equal(Convert.ToHexString(zip), Convert.ToHexString(copy));
    }

    [Fact]
    public void ZipNameLengthBeyondTheFileIsReportedWithItsOffset()
    {
        var zip = Sample("sample.zip");
        zip[26] = 0xFF; // the first local header's name length: 65535
        zip[27] = 0xFF;
        var error = Assert.Throws<BinaryFormatException>(() => ZipLocalFile.Read(zip)).Error;
        Assert.Equal(BinaryFormatRule.ShortInput, error.Rule);
        Assert.Equal($"ZipLocalFile.Name at offset 30: needs 65535 bytes, but only {zip.Length - 30} are available", error.Message);
        Assert.Equal(30 + 65535, error.BytesNeeded);
    }

    [Fact]
    public void ElfProgramAndSectionHeadersOfBinLs()
    {
        // Every Linux machine the tests run on (CI included) has /bin/ls as a little-endian ELF64 executable.
        var file = File.ReadAllBytes("/bin/ls");
        var header = Elf64Header.Read(file);
        Assert.Equal(Elf64Header.Size, header.HeaderSize);
        Assert.Equal(Elf64ProgramHeader.Size, header.ProgramHeaderSize);

        var copy = (byte[])file.Clone();
        copy.AsSpan(0, Elf64Header.Size).Clear();
        header.Write(copy);
        var programHeaders = file.AsSpan((int)header.ProgramHeaderOffset);
        var count = 0;
        foreach (var program in BinaryLayout.Records<Elf64ProgramHeader>(programHeaders, header.ProgramHeaderCount, header.ProgramHeaderSize))
        {
            Assert.True(program.Offset + program.FileSize <= (ulong)file.Length);
            var at = (int)header.ProgramHeaderOffset + count++ * header.ProgramHeaderSize;
            copy.AsSpan(at, Elf64ProgramHeader.Size).Clear();
            program.Write(copy.AsSpan(at));
        }
        Assert.Equal(header.ProgramHeaderCount, count);

        // Section names: NUL-terminated strings in the section-name string table.
        var sections = file.AsSpan((int)header.SectionHeaderOffset);
        var nameTable = Elf64SectionHeader.Read(sections[(header.SectionNameTableIndex * header.SectionHeaderSize)..]);
        var names = new List<string>();
        foreach (var section in BinaryLayout.Records<Elf64SectionHeader>(sections, header.SectionHeaderCount, header.SectionHeaderSize))
            names.Add(ElfName.Read(file.AsSpan((int)(nameTable.Offset + section.Name))).Text);
        Assert.Contains(".text", names);
        Assert.Contains(".shstrtab", names);
        Assert.Equal(Convert.ToHexString(file), Convert.ToHexString(copy));
    }
}
