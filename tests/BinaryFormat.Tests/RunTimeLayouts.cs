namespace BinaryFormat.Tests.Samples;

/// <summary>An ELF64 program header, in the byte order its caller passes (the file header's).</summary>
[BinaryFormat, ByteOrderFrom(nameof(Order))]
public partial struct ElfProgramHeader
{
    [Argument] public ByteOrder Order;
    [Field] public uint Type;
    [Field] public uint Flags;
    [Field] public ulong Offset;
    [Field] public ulong VirtualAddress;
    [Field] public ulong PhysicalAddress;
    [Field] public ulong FileSize;
    [Field] public ulong MemorySize;
    [Field] public ulong Alignment;
}

/// <summary>
/// qcow2 snapshot extra data: each field is present when the container's <c>extra_data_size</c> covers it; bytes a newer
/// writer added are kept.
/// </summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial class SnapshotExtraData
{
    [Argument] public uint Size;
    [Field, PresentWhen(nameof(Size), Comparison.GreaterOrEqual, 8)] public ulong VmStateSize;
    [Field, PresentWhen(nameof(Size), Comparison.GreaterOrEqual, 16)] public ulong VirtualDiskSize;
    [Field, PresentWhen(nameof(Size), Comparison.GreaterOrEqual, 24)] public ulong InstructionCount;
    [Field, Length(ToEnd = true)] public byte[] Unknown = [];
}

/// <summary>A qcow2 snapshot table entry, padded to a multiple of 8.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial class SnapshotEntry
{
    [Field] public ulong L1TableOffset;
    [Field] public uint L1Size;
    [Field] public ushort IdSize;
    [Field] public ushort NameSize;
    [Field] public uint DateSeconds;
    [Field] public uint DateNanoseconds;
    [Field] public ulong VmClockNanoseconds;
    [Field] public uint VmStateSize;
    [Field] public uint ExtraDataSize;
    [Field, Length(nameof(ExtraDataSize)), Args(nameof(ExtraDataSize))] public SnapshotExtraData Extra = new();
    [Field, Length(nameof(IdSize))] public string Id = "";
    [Field, Length(nameof(NameSize))] public string Name = "";
    [Field, PadTo(8)] public byte[] Padding = [];
}
