using System.Buffers.Binary;
using BinaryFormat.Tests.Samples;

namespace BinaryFormat.Tests;

/// <summary>Byte order decided at run time (ELF's EI_DATA, or passed in) and values passed from a container (qcow2 snapshots).</summary>
public class RunTimeTests
{
    private static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Samples", name));

    /// <summary>The first 64 bytes of /bin/ls and the same header made big-endian by swapping every field after e_ident.</summary>
    private static (byte[] Little, byte[] Big) ElfHeaders()
    {
        var little = File.ReadAllBytes("/bin/ls").AsSpan(0, 64).ToArray();
        var big = (byte[])little.Clone();
        big[5] = 2;
        var at = 16;
        foreach (var width in new[] { 2, 2, 4, 8, 8, 8, 4, 2, 2, 2, 2, 2, 2 })
        {
            big.AsSpan(at, width).Reverse();
            at += width;
        }
        return (little, big);
    }

    [Fact]
    public void ElfHeaderOfBinLsReadsTheSameInBothByteOrders()
    {
        var (little, big) = ElfHeaders();
        var fromLittle = Elf64Header.Read(little);
        var fromBig = Elf64Header.Read(big);
        Assert.Equal(1, fromLittle.Data);
        Assert.Equal(2, fromBig.Data);
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(little.AsSpan(24)), fromLittle.Entry);
        Assert.Equal(fromLittle.Entry, fromBig.Entry);
        Assert.Equal(fromLittle.ProgramHeaderOffset, fromBig.ProgramHeaderOffset);
        Assert.Equal(64, fromBig.HeaderSize);
        Assert.Equal(fromLittle.SectionHeaderCount, fromBig.SectionHeaderCount);

        // Written back, each header keeps its own order: byte for byte.
        var copy = new byte[64];
        fromBig.Write(copy);
        Assert.Equal(Convert.ToHexString(big), Convert.ToHexString(copy));
        fromLittle.Write(copy);
        Assert.Equal(Convert.ToHexString(little), Convert.ToHexString(copy));

        // Turning a little-endian header big-endian is a change of the deciding field.
        fromLittle.Data = 2;
        fromLittle.Write(copy);
        Assert.Equal(Convert.ToHexString(big), Convert.ToHexString(copy));
    }

    [Fact]
    public void AnElfDataValueThatIsNeitherOrderIsReported()
    {
        var (little, _) = ElfHeaders();
        little[5] = 3;
        var error = Assert.Throws<BinaryFormatException>(() => Elf64Header.Read(little)).Error;
        Assert.Equal("Elf64Header.Data at offset 5: 3 is not one of 1, 2", error.Message);
    }

    [Fact]
    public void ProgramHeadersReadInTheOrderTheCallerPasses()
    {
        var file = File.ReadAllBytes("/bin/ls");
        var header = Elf64Header.Read(file);
        var at = (int)header.ProgramHeaderOffset;
        var little = ElfProgramHeader.Read(file.AsSpan(at), at, ByteOrder.LittleEndian);
        Assert.Equal(6u, little.Type); // PT_PHDR comes first
        Assert.Equal(header.ProgramHeaderOffset, little.Offset);

        var big = new byte[ElfProgramHeader.Size];
        var swapped = little with { Order = ByteOrder.BigEndian };
        swapped.Write(big);
        Assert.Equal(6u, BinaryPrimitives.ReadUInt32BigEndian(big));
        Assert.Equal(header.ProgramHeaderOffset, BinaryPrimitives.ReadUInt64BigEndian(big.AsSpan(8)));
        var back = ElfProgramHeader.Read(big, 0, ByteOrder.BigEndian);
        Assert.Equal(little.Offset, back.Offset);
        Assert.Equal(little.Alignment, back.Alignment);
        Assert.Equal(ByteOrder.BigEndian, back.Order);
    }

    [Fact]
    public void SnapshotExtraDataIsPresentAsFarAsTheContainersSizeCoversIt()
    {
        var image = Sample("snap.qcow2");
        var count = BinaryPrimitives.ReadInt32BigEndian(image.AsSpan(60));
        var tableAt = (int)BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan(64));
        var copy = (byte[])image.Clone();
        var names = new List<string>();
        var at = tableAt;
        foreach (var entry in BinaryLayout.Records<SnapshotEntry>(image.AsSpan(tableAt), count, position: tableAt))
        {
            Assert.Equal(24u, entry.ExtraDataSize);
            Assert.Equal(24u, entry.Extra.Size);
            Assert.Equal(65536UL, entry.Extra.VirtualDiskSize);
            Assert.Empty(entry.Extra.Unknown);
            names.Add(entry.Name);
            copy.AsSpan(at, entry.GetEncodedSize()).Clear();
            entry.Write(copy.AsSpan(at));
            at += entry.GetEncodedSize();
        }
        Assert.Equal(["first", "second-snapshot"], names);
        Assert.Equal(Convert.ToHexString(image), Convert.ToHexString(copy));
    }

    [Fact]
    public void SnapshotExtraDataShorterOrLongerThanKnownRoundTrips()
    {
        // An old writer's 16 bytes: no instruction count. A newer writer's 32: 8 unknown bytes kept.
        foreach (var size in new uint[] { 16, 32 })
        {
            var entry = new SnapshotEntry { Id = "1", Name = "old" };
            entry.Extra = new SnapshotExtraData { Size = size, VmStateSize = 7, VirtualDiskSize = 65536, InstructionCount = 9, Unknown = size > 24 ? [1, 2, 3, 4, 5, 6, 7, 8] : [] };
            var bytes = new byte[entry.GetEncodedSize()];
            entry.Write(bytes);
            Assert.Equal(size, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(36)));

            var back = SnapshotEntry.Read(bytes);
            Assert.Equal(size, back.Extra.Size);
            Assert.Equal(65536UL, back.Extra.VirtualDiskSize);
            Assert.Equal(size >= 24 ? 9UL : 0UL, back.Extra.InstructionCount);
            Assert.Equal(entry.Extra.Unknown, back.Extra.Unknown);
            Assert.Equal("old", back.Name);
        }
    }

    [Fact]
    public void ExtraDataReadAloneTakesItsSizeFromTheCaller()
    {
        var bytes = new byte[16];
        bytes[15] = 0x10;
        var extra = SnapshotExtraData.Read(bytes, 1000, 16u);
        Assert.Equal(16UL, extra.VirtualDiskSize);
        Assert.Equal(16, extra.GetEncodedSize());
        var none = SnapshotExtraData.Read(bytes, 1000, 0u);
        Assert.Equal(16, none.Unknown.Length);
    }
}
