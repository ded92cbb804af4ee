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

/// <summary>A GPT made by sfdisk: header CRC (over itself, the CRC as zero) and entry-array CRC.</summary>
public class GptTests
{
    private static byte[] Disk() => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Samples", "gpt-primary.bin"));

    [Fact]
    public void HeaderAndEntriesReadCheckAndRoundTrip()
    {
        var disk = Disk();
        var header = GptHeader.Read(disk.AsSpan(512), 512);
        Assert.Equal(92u, header.HeaderSize);
        Assert.Equal(2ul, header.EntryArrayLba);
        Assert.Equal("5B8C2E6A-1F4D-4C8E-9A3B-2D7E6F1A0B9C", new Guid(header.DiskGuid).ToString().ToUpperInvariant());

        var table = disk.AsSpan(1024, (int)(header.EntryCount * header.EntrySize));
        Assert.Equal(header.EntryArrayCrc, BinaryChecksum.Compute(ChecksumAlgorithm.Crc32, table, 0, table.Length, -4));
        var names = new List<string>();
        foreach (var entry in BinaryLayout.Records<GptEntry>(table, (int)header.EntryCount, (int)header.EntrySize, 1024))
        {
            if (entry.FirstLba != 0)
                names.Add(entry.Name);
        }
        Assert.Equal(["root", "EFI system"], names);

        var entries = GptEntryArray.Read(table);
        var copy = new byte[disk.Length];
        disk.AsSpan(0, 512).CopyTo(copy);
        header.Write(copy.AsSpan(512));
        entries.Write(copy.AsSpan(1024));
        Assert.Equal(Convert.ToHexString(disk), Convert.ToHexString(copy));
        Assert.Equal(entries.Entries[1], GptEntry.Read(table[128..]));   // equality of a struct with inline arrays
    }

    [Fact]
    public void ABrokenHeaderCrcIsReportedAndWriteComputesIt()
    {
        var disk = Disk();
        disk[512 + 40] ^= 0x01; // FirstUsableLba, CRC left as it was
        var error = Assert.Throws<BinaryFormatException>(() => GptHeader.Read(disk.AsSpan(512), 512)).Error;
        Assert.Equal(BinaryFormatRule.Checksum, error.Rule);
        Assert.StartsWith("GptHeader.HeaderCrc at offset 528: expected 0x", error.Message);
        Assert.EndsWith("(CRC-32 of bytes 512..603), but got " + error.Value, error.Message);

        var header = GptHeader.ReadUnchecked(disk.AsSpan(512));
        Assert.Equal(BinaryFormatRule.Checksum, Assert.Single(header.Validate()).Rule);
        header.Write(disk.AsSpan(512));
        Assert.Empty(GptHeader.Read(disk.AsSpan(512)).Validate());
    }

    [Fact]
    public void RecordsOfALayoutWithoutRulesStillReportShortInputAtItsOffset()
    {
        // Elf64ProgramHeader has no rules, so the walk reads it without a validation pass; short input is still an error.
        var file = File.ReadAllBytes("/bin/ls");
        var header = Elf64Header.Read(file);
        var at = (int)header.ProgramHeaderOffset;
        var types = new List<uint>();
        var error = Assert.Throws<BinaryFormatException>(() =>
        {
            foreach (var program in BinaryLayout.Records<Elf64ProgramHeader>(file.AsSpan(at, Elf64ProgramHeader.Size + 10), 2, position: at))
                types.Add(program.Type);
        }).Error;
        Assert.Equal([6u], types); // PT_PHDR
        Assert.Equal(at + Elf64ProgramHeader.Size, error.Offset);
        Assert.Equal(BinaryFormatRule.ShortInput, error.Rule);
    }
}
