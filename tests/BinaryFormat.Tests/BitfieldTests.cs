using System.Buffers.Binary;
using BinaryFormat.Tests.Samples;

namespace BinaryFormat.Tests;

/// <summary>[Bits] properties over real samples: a TCP header Linux sent and the L2 table of an image qemu-io wrote.</summary>
public class BitfieldTests
{
    private static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Samples", name));

    [Fact]
    public void TcpSynFromLinuxReadsItsBitfieldsAndRoundTrips()
    {
        var segment = Sample("tcp-syn.bin");
        var header = TcpHeader.Read(segment);
        Assert.Equal(47123, header.DestinationPort);
        Assert.Equal(10, header.DataOffset);
        Assert.Equal(0, header.ReservedBits);
        Assert.Equal(TcpFlags.Syn, header.Flags);
        Assert.Equal(header.DataOffset * 4 - 20, header.Options.Length);
        Assert.Equal(0x02, header.Options[0]); // MSS option kind

        var copy = new byte[segment.Length];
        header.Write(copy);
        Assert.Equal(Convert.ToHexString(segment), Convert.ToHexString(copy));
    }

    [Fact]
    public void SettingABitfieldLeavesTheOtherBitsOfItsMember()
    {
        var header = TcpHeader.Read(Sample("tcp-syn.bin"));
        header.Flags = TcpFlags.Syn | TcpFlags.Ack;
        Assert.Equal(0xA012, header.OffsetAndFlags);
        header.DataOffset = 5;
        Assert.Equal(0x5012, header.OffsetAndFlags);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, header.Flags);

        var written = new byte[header.GetEncodedSize()];
        header.Write(written);
        Assert.Equal(0x5012, BinaryPrimitives.ReadUInt16BigEndian(written.AsSpan(12)));
    }

    [Fact]
    public void AValueWiderThanItsBitsIsACallerMistake()
    {
        var header = new TcpHeader { OffsetAndFlags = 0x5002 };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => header.DataOffset = 16);
        Assert.Contains("TcpHeader.DataOffset holds 4 bits (0..15), so it cannot take 16", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => header.Flags = (TcpFlags)0x200);
        Assert.Equal(0x5002, header.OffsetAndFlags);
    }

    [Fact]
    public void BitfieldRulesAreReportedWithTheMembersOffset()
    {
        var segment = Sample("tcp-syn.bin");
        segment[12] = 0x42; // data offset 4 (below the minimum 5) and reserved bit 9 set
        var error = Assert.Throws<BinaryFormatException>(() => TcpHeader.Read(segment)).Error;
        Assert.Equal("TcpHeader.DataOffset at offset 12: 4 is outside 5..15", error.Message);

        var header = new TcpHeader { OffsetAndFlags = 0x4202 };
        Assert.Equal(
            ["TcpHeader.DataOffset at offset 12: 4 is outside 5..15", "TcpHeader.ReservedBits at offset 12: expected 0 (reserved), but got 0x01"],
            header.Validate().Select(e => e.Message));
    }

    [Fact]
    public void Qcow2L2EntriesWrittenByQemuIo()
    {
        var image = Sample("l2.qcow2");
        var l1Offset = (int)BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan(40));
        var l1Entry = L2Entry.Read(image.AsSpan(l1Offset)); // an L1 entry has the same COPIED bit and offset field
        Assert.True(l1Entry.Copied);
        var l2Offset = (int)(l1Entry.HostSector * 512);

        var entries = new List<L2Entry>();
        foreach (var entry in BinaryLayout.Records<L2Entry>(image.AsSpan(l2Offset, 512), 64, position: l2Offset))
            entries.Add(entry);
        Assert.True(entries[0].Copied && !entries[0].Compressed && entries[0].HostSector * 512 == 0xA00);
        Assert.True(entries[1].Copied && entries[1].HostSector * 512 == 0xC00);
        Assert.True(entries[4].Compressed && !entries[4].Copied);
        Assert.True(entries[8].ReadsAsZero && entries[8].HostSector == 0);
        Assert.Equal(0UL, entries[2].Raw);

        var copy = new byte[512];
        for (var i = 0; i < entries.Count; i++)
            entries[i].Write(copy.AsSpan(i * 8));
        Assert.Equal(Convert.ToHexString(image.AsSpan(l2Offset, 512)), Convert.ToHexString(copy));
    }

    [Fact]
    public void L2ReservedBitsAreReportedAndTheOffsetIsKeptWhenFlagsChange()
    {
        var entry = new L2Entry { Raw = 0x8000_0000_0000_0A00 };
        entry.Copied = false;
        entry.ReadsAsZero = true;
        Assert.Equal(0x0000_0000_0000_0A01UL, entry.Raw);
        entry.HostSector = (1UL << 47) - 1;
        Assert.Equal(0x00FF_FFFF_FFFF_FE01UL, entry.Raw);

        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, 0x8100_0000_0000_0A00);
        var error = Assert.Throws<BinaryFormatException>(() => L2Entry.Read(bytes, 4096)).Error;
        Assert.Equal("L2Entry.ReservedHigh at offset 4096: expected 0 (reserved), but got 0x01", error.Message);
    }
}
