using BinaryFormat;

namespace Qcow2;

/// <summary>
/// The fixed qcow2 header (spec §1.1). Version 3 fields are present only in v3 images; compression_type only when
/// header_length covers byte 104. The declared rules are the single-field checks QEMU makes; cross-field checks and
/// QEMU's check order live in <see cref="ImageOpener"/>.
/// </summary>
[BinaryFormat(ByteOrder.BigEndian, Size = 112)]
internal partial struct Qcow2Header
{
    public const uint MagicValue = 0x514649FB;
    public const int V2Length = 72;
    public const int V3MinimumLength = 104;

    [Field(0), Magic(MagicValue)]
    public uint Magic { get; set; }

    [Field(4), Range(2, 3)]
    public uint Version { get; set; }

    [Field(8)]
    public ulong BackingFileOffset { get; set; }

    [Field(16)]
    public uint BackingFileSize { get; set; }

    [Field(20), Range(9, 21)]
    public uint ClusterBits { get; set; }

    [Field(24)]
    public ulong VirtualSize { get; set; }

    [Field(32), OneOf(0, 1, 2)]
    public uint CryptMethod { get; set; }

    [Field(36), Range(0, Limits.MaxL1Entries)]
    public uint L1Size { get; set; }

    [Field(40), AlignedTo(ContextKey = ContextKeys.ClusterSize)]
    public ulong L1TableOffset { get; set; }

    [Field(48), AlignedTo(ContextKey = ContextKeys.ClusterSize)]
    public ulong RefcountTableOffset { get; set; }

    [Field(56)]
    public uint RefcountTableClusters { get; set; }

    [Field(60), Range(0, Limits.MaxSnapshots)]
    public uint NbSnapshots { get; set; }

    [Field(64), AlignedTo(ContextKey = ContextKeys.ClusterSize)]
    public ulong SnapshotsOffset { get; set; }

    [Field(72), PresentWhen(nameof(Version), Comparison.GreaterOrEqual, 3)]
    [FlagsField(Features.KnownIncompatible, RejectUnknown = true)]
    public ulong IncompatibleFeatures { get; set; }

    [Field(80), PresentWhen(nameof(Version), Comparison.GreaterOrEqual, 3)]
    [FlagsField(Features.KnownCompatible)]
    public ulong CompatibleFeatures { get; set; }

    [Field(88), PresentWhen(nameof(Version), Comparison.GreaterOrEqual, 3)]
    [FlagsField(Features.KnownAutoclear)]
    public ulong AutoclearFeatures { get; set; }

    [Field(96), PresentWhen(nameof(Version), Comparison.GreaterOrEqual, 3, Otherwise = 4), Range(0, 6)]
    public uint RefcountOrder { get; set; }

    [Field(100), PresentWhen(nameof(Version), Comparison.GreaterOrEqual, 3, Otherwise = V2Length), Range(V3MinimumLength, uint.MaxValue)]
    public uint HeaderLength { get; set; }

    [Field(104), PresentWhen(nameof(Version), Comparison.GreaterOrEqual, 3), PresentWhen(nameof(HeaderLength), Comparison.GreaterThan, 104)]
    [OneOf(0, 1)]
    public byte CompressionType { get; set; }
}
