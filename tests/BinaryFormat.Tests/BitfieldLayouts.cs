namespace BinaryFormat.Tests.Samples;

/// <summary>TCP flags, bits 0..8 of the header's offset-and-flags word (RFC 9293, RFC 3540's NS as bit 8).</summary>
[Flags]
public enum TcpFlags : ushort
{
    None = 0,
    Fin = 1,
    Syn = 2,
    Rst = 4,
    Psh = 8,
    Ack = 16,
    Urg = 32,
    Ece = 64,
    Cwr = 128,
    Ns = 256,
}

/// <summary>A TCP header: the data offset, reserved bits and flags share one 16-bit word.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial class TcpHeader
{
    [Field] public ushort SourcePort;
    [Field] public ushort DestinationPort;
    [Field] public uint SequenceNumber;
    [Field] public uint AcknowledgmentNumber;
    [Field] public ushort OffsetAndFlags;
    [Bits(nameof(OffsetAndFlags), 12, 4), Range(5, 15)] public partial byte DataOffset { get; set; }
    [Bits(nameof(OffsetAndFlags), 9, 3), Reserved] public partial byte ReservedBits { get; set; }
    [Bits(nameof(OffsetAndFlags), 0, 9)] public partial TcpFlags Flags { get; set; }
    [Field] public ushort Window;
    [Field] public ushort Checksum;
    [Field] public ushort UrgentPointer;
    [Field, Length(ToEnd = true)] public byte[] Options = [];
}

/// <summary>A qcow2 L2 table entry (docs/interop/qcow2.txt, "Standard Cluster Descriptor").</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial struct L2Entry
{
    [Field] public ulong Raw;
    [Bits(nameof(Raw), 63, 1)] public partial bool Copied { get; set; }
    [Bits(nameof(Raw), 62, 1)] public partial bool Compressed { get; set; }
    [Bits(nameof(Raw), 56, 6), Reserved] public partial byte ReservedHigh { get; set; }
    /// <summary>The host cluster offset divided by 512 (bits 9..55).</summary>
    [Bits(nameof(Raw), 9, 47)] public partial ulong HostSector { get; set; }
    [Bits(nameof(Raw), 1, 8), Reserved] public partial byte ReservedLow { get; set; }
    [Bits(nameof(Raw), 0, 1)] public partial bool ReadsAsZero { get; set; }
}
