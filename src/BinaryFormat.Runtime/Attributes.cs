namespace BinaryFormat;

/// <summary>The order of the bytes of a multi-byte integer.</summary>
public enum ByteOrder
{
    /// <summary>Most significant byte first (network order).</summary>
    BigEndian,
    /// <summary>Least significant byte first.</summary>
    LittleEndian,
}

/// <summary>How <see cref="PresentWhenAttribute"/> compares a member with its operand.</summary>
public enum Comparison
{
    /// <summary>member == operand</summary>
    Equal,
    /// <summary>member != operand</summary>
    NotEqual,
    /// <summary>member &gt; operand</summary>
    GreaterThan,
    /// <summary>member &gt;= operand</summary>
    GreaterOrEqual,
    /// <summary>member &lt; operand</summary>
    LessThan,
    /// <summary>member &lt;= operand</summary>
    LessOrEqual,
}

/// <summary>
/// Declares a partial struct, class or record as a binary layout. The generator adds <c>Size</c>, <c>Read</c>,
/// <c>TryRead</c>, <c>Write</c> and <c>Validate</c> and implements <see cref="IBinaryFormat{TSelf}"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Struct | AttributeTargets.Class, Inherited = false)]
public sealed class BinaryFormatAttribute : Attribute
{
    /// <summary>Declares a layout whose fields use <paramref name="byteOrder"/> unless they say otherwise.</summary>
    public BinaryFormatAttribute(ByteOrder byteOrder = ByteOrder.BigEndian) => ByteOrder = byteOrder;

    /// <summary>The default byte order of the fields.</summary>
    public ByteOrder ByteOrder { get; }

    /// <summary>The encoded size in bytes when it is larger than the end of the last field (trailing padding); 0 means the end of the last field.</summary>
    public int Size { get; set; }

    /// <summary>
    /// Also generates a nested <c>ref struct View</c> over the encoded bytes, with one property per field that decodes
    /// it when read (byte blocks, strings and switched members as spans, arrays of layouts as <see cref="BinaryViews{TView}"/>),
    /// for walking tables without copying or allocating.
    /// </summary>
    public bool GenerateView { get; set; }
}

/// <summary>
/// Maps a field or settable property to bytes: at a byte offset from the start of the layout (<c>[Field(8)]</c>),
/// or, without an offset (<c>[Field]</c>), right after the member declared before it, as binrw and Kaitai read.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class FieldAttribute : Attribute
{
    /// <summary>Maps the member to the bytes that follow the member declared before it.</summary>
    public FieldAttribute() => Offset = -1;

    /// <summary>Maps the member to the bytes at <paramref name="offset"/>.</summary>
    public FieldAttribute(int offset) => Offset = offset;

    /// <summary>The byte offset from the start of the layout, or -1 when the member follows the one before it.</summary>
    public int Offset { get; }

    /// <summary>Overrides the layout's byte order for this field.</summary>
    public ByteOrder ByteOrder { get; set; }

    /// <summary>The length in bytes of a <c>byte[]</c> block (inline arrays carry their own length); same as <c>[Length(n)]</c>.</summary>
    public int Length { get; set; }
}

/// <summary>The field must hold exactly this value; <c>Write</c> always writes it.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class MagicAttribute : Attribute
{
    /// <summary>Requires the field to equal <paramref name="value"/>.</summary>
    public MagicAttribute(ulong value) => Value = value;

    /// <summary>The required value.</summary>
    public ulong Value { get; }
}

/// <summary>
/// The field must be zero: <c>Read</c> and <c>Validate</c> report anything else. <c>Write</c> writes what the member holds,
/// so that reading then writing keeps even non-zero reserved bytes; new values hold zero.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class ReservedAttribute : Attribute
{
}

/// <summary>The field must lie in <c>[min, max]</c>, both inclusive.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class RangeAttribute : Attribute
{
    /// <summary>Requires <paramref name="min"/> &lt;= value &lt;= <paramref name="max"/>.</summary>
    public RangeAttribute(long min, long max)
    {
        Min = min;
        Max = max;
    }

    /// <summary>The smallest allowed value.</summary>
    public long Min { get; }

    /// <summary>The largest allowed value.</summary>
    public long Max { get; }
}

/// <summary>The field must hold one of the listed values.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class OneOfAttribute : Attribute
{
    /// <summary>Requires the value to be one of <paramref name="values"/>.</summary>
    public OneOfAttribute(params long[] values) => Values = values;

    /// <summary>The allowed values.</summary>
    public long[] Values { get; }
}

/// <summary>
/// The field must be a multiple of an alignment: a constant, an earlier member of the same layout
/// (<c>[AlignedTo(nameof(ClusterSize))]</c>), or a value of the <see cref="IValidationContext"/> given to
/// <c>Validate</c> (<c>[AlignedTo(ContextKey = "ClusterSize")]</c>; skipped when the context lacks it).
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class AlignedToAttribute : Attribute
{
    /// <summary>Requires a multiple of the constant <paramref name="alignment"/>.</summary>
    public AlignedToAttribute(long alignment) => Alignment = alignment;

    /// <summary>Requires a multiple of the value of the earlier member <paramref name="member"/>.</summary>
    public AlignedToAttribute(string member) => Member = member;

    /// <summary>Requires a multiple of the context value named by <see cref="ContextKey"/>.</summary>
    public AlignedToAttribute()
    {
    }

    /// <summary>The constant alignment, or 0.</summary>
    public long Alignment { get; }

    /// <summary>The member that holds the alignment, or null.</summary>
    public string? Member { get; }

    /// <summary>The <see cref="IValidationContext"/> key that holds the alignment, or null.</summary>
    public string? ContextKey { get; set; }
}

/// <summary>
/// The field is present only when an earlier member compares as stated; otherwise it is neither read nor written
/// nor validated, and reads as <see cref="Otherwise"/>. Several attributes on one member must all hold.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false, AllowMultiple = true)]
public sealed class PresentWhenAttribute : Attribute
{
    /// <summary>Present when <paramref name="member"/> compares with <paramref name="operand"/> as <paramref name="comparison"/> says.</summary>
    public PresentWhenAttribute(string member, Comparison comparison, long operand)
    {
        Member = member;
        Comparison = comparison;
        Operand = operand;
    }

    /// <summary>The earlier member the condition reads.</summary>
    public string Member { get; }

    /// <summary>The comparison.</summary>
    public Comparison Comparison { get; }

    /// <summary>The operand.</summary>
    public long Operand { get; }

    /// <summary>The value the field takes when it is absent (default 0).</summary>
    public long Otherwise { get; set; }
}

/// <summary>
/// Marks an integer field as a set of flags of which <see cref="Known"/> are defined. The generator adds a
/// property <c>{Member}UnknownBits</c>; with <see cref="RejectUnknown"/> an unknown bit is a validation error.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class FlagsFieldAttribute : Attribute
{
    /// <summary>Declares the mask of known bits.</summary>
    public FlagsFieldAttribute(ulong known) => Known = known;

    /// <summary>The mask of defined bits.</summary>
    public ulong Known { get; }

    /// <summary>Whether a bit outside <see cref="Known"/> is a validation error.</summary>
    public bool RejectUnknown { get; set; }
}

/// <summary>
/// The length in bytes of a variable member (<c>byte[]</c>, <c>ReadOnlyMemory&lt;byte&gt;</c>, <c>string</c>, or an array
/// repeated until its bytes are used up): taken from an earlier integer member (<c>[Length(nameof(NameSize))]</c>,
/// which <c>Write</c> then fills in from the value), a constant (<c>[Length(16)]</c>; strings are zero-padded), or
/// everything to the end of the input (<c>[Length(ToEnd = true)]</c>, Kaitai's <c>size-eos</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class LengthAttribute : Attribute
{
    /// <summary>The length is the value of the earlier member <paramref name="member"/>.</summary>
    public LengthAttribute(string member) => Member = member;

    /// <summary>The length is the constant <paramref name="bytes"/>.</summary>
    public LengthAttribute(int bytes) => Bytes = bytes;

    /// <summary>The length is set by <see cref="ToEnd"/>.</summary>
    public LengthAttribute()
    {
    }

    /// <summary>The earlier member that holds the length, or null.</summary>
    public string? Member { get; }

    /// <summary>The constant length, or 0.</summary>
    public int Bytes { get; }

    /// <summary>The member takes every remaining byte of the input (it must be the last member).</summary>
    public bool ToEnd { get; set; }
}

/// <summary>
/// The number of elements of an array member: an earlier integer member (<c>[Count(nameof(EntryCount))]</c>, which
/// <c>Write</c> fills in from the array's length) or a constant (<c>[Count(128)]</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class CountAttribute : Attribute
{
    /// <summary>The count is the value of the earlier member <paramref name="member"/>.</summary>
    public CountAttribute(string member) => Member = member;

    /// <summary>The count is the constant <paramref name="count"/>.</summary>
    public CountAttribute(int count) => Count = count;

    /// <summary>The earlier member that holds the count, or null.</summary>
    public string? Member { get; }

    /// <summary>The constant count, or 0.</summary>
    public int Count { get; }
}

/// <summary>
/// The distance in bytes from one array element to the next when it is larger than the element (GPT's
/// <c>SizeOfPartitionEntry</c>): a constant or an earlier integer member. The bytes between elements are kept on a
/// round trip by <c>Write</c> only as far as the destination already holds them; new space is zeroed.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class StrideAttribute : Attribute
{
    /// <summary>Elements are <paramref name="bytes"/> apart.</summary>
    public StrideAttribute(int bytes) => Bytes = bytes;

    /// <summary>Elements are as far apart as the value of the earlier member <paramref name="member"/>.</summary>
    public StrideAttribute(string member) => Member = member;

    /// <summary>The constant stride, or 0.</summary>
    public int Bytes { get; }

    /// <summary>The earlier member that holds the stride, or null.</summary>
    public string? Member { get; }
}

/// <summary>
/// Repeats an array until an element equals <see cref="Value"/> (for integer and enum elements) or until the element's
/// member <see cref="Member"/> equals it (for nested layouts: qcow2's header extensions end with type 0). The
/// terminating element is part of the array, as with Kaitai's <c>repeat-until</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class UntilAttribute : Attribute
{
    /// <summary>Stops after the element equal to <paramref name="value"/>.</summary>
    public UntilAttribute(long value) => Value = value;

    /// <summary>Stops after the element whose member <paramref name="member"/> equals <paramref name="value"/>.</summary>
    public UntilAttribute(string member, long value)
    {
        Member = member;
        Value = value;
    }

    /// <summary>The member of the element that is compared, or null to compare the element itself.</summary>
    public string? Member { get; }

    /// <summary>The terminating value.</summary>
    public long Value { get; }
}

/// <summary>A string member ends with a NUL character (one zero byte, or a zero code unit in UTF-16), which is read and written but not part of the value.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class NullTerminatedAttribute : Attribute
{
}

/// <summary>How a string member is encoded (UTF-8 unless stated).</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class EncodingAttribute : Attribute
{
    /// <summary>Encodes the string as <paramref name="encoding"/>.</summary>
    public EncodingAttribute(TextEncoding encoding) => Encoding = encoding;

    /// <summary>The encoding.</summary>
    public TextEncoding Encoding { get; }
}

/// <summary>The text encodings a string member can use.</summary>
public enum TextEncoding
{
    /// <summary>UTF-8.</summary>
    Utf8,
    /// <summary>7-bit ASCII; other characters are a validation error.</summary>
    Ascii,
    /// <summary>ISO-8859-1: one byte per character U+0000..U+00FF.</summary>
    Latin1,
    /// <summary>UTF-16, least significant byte first.</summary>
    Utf16LE,
    /// <summary>UTF-16, most significant byte first.</summary>
    Utf16BE,
}

/// <summary>
/// A <c>byte[]</c> or <c>ReadOnlyMemory&lt;byte&gt;</c> member that pads up to the next multiple of <see cref="Alignment"/>
/// bytes from the start of the layout (binrw's <c>align_after</c>): after another member, or last, to pad the whole record.
/// Read keeps the padding bytes and Write writes them back, so a round trip changes nothing; a new value (empty) writes
/// zeros. Add <see cref="ReservedAttribute"/> to require zeros.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class PadToAttribute : Attribute
{
    /// <summary>Pads to a multiple of <paramref name="alignment"/> bytes.</summary>
    public PadToAttribute(int alignment) => Alignment = alignment;

    /// <summary>The alignment in bytes.</summary>
    public int Alignment { get; }
}

/// <summary>
/// Chooses the layout of a member by the value of an earlier integer or enum member (Kaitai's <c>switch-on</c>, binrw's
/// enum magic): qcow2's extension type, a PNG chunk type, a ZIP signature. List the layouts with <see cref="CaseAttribute"/>;
/// the member's type is anything they all convert to (an interface, a base class, <c>object</c>). Write fills in the tag
/// from the layout the member holds; Validate reports a tag that disagrees with it.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class SwitchOnAttribute : Attribute
{
    /// <summary>The tag is the value of the earlier member <paramref name="member"/>.</summary>
    public SwitchOnAttribute(string member) => Member = member;

    /// <summary>The member that holds the tag.</summary>
    public string Member { get; }
}

/// <summary>
/// One layout of a <see cref="SwitchOnAttribute"/> member: <c>[Case(0x6803F857, typeof(FeatureNameTable))]</c>. Without a
/// value it is the fallback for every other tag, typically a layout that keeps the raw bytes
/// (<c>[Field, Length(ToEnd = true)] public byte[] Bytes</c>) so that unknown kinds are written back unchanged.
/// Without a fallback, an unknown tag is an error.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false, AllowMultiple = true)]
public sealed class CaseAttribute : Attribute
{
    /// <summary>The layout <paramref name="layout"/> is used when the tag equals <paramref name="value"/>.</summary>
    public CaseAttribute(long value, Type layout)
    {
        Value = value;
        Layout = layout;
    }

    /// <summary>The layout <paramref name="layout"/> is used for every tag no other case names.</summary>
    public CaseAttribute(Type layout) => Layout = layout;

    /// <summary>The tag value, or null for the fallback.</summary>
    public long? Value { get; }

    /// <summary>The [BinaryFormat] type read for this tag.</summary>
    public Type Layout { get; }
}

/// <summary>The checksum algorithms of <see cref="ChecksumAttribute"/>.</summary>
public enum ChecksumAlgorithm
{
    /// <summary>CRC-32 (ISO-HDLC; zlib, PNG, GPT, ZIP): reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF.</summary>
    Crc32,
    /// <summary>CRC-32C (Castagnoli; iSCSI, Btrfs): reflected polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF.</summary>
    Crc32C,
    /// <summary>CRC-32C without the final XOR, as ext4 and jbd2 store it (<c>crc32c_le(~0, ...)</c>).</summary>
    Crc32CNoFinalXor,
}

/// <summary>
/// A <c>uint</c> member that holds a checksum of the bytes from the start of member <see cref="From"/> to the end of member
/// <see cref="To"/> (by default the first member and the last member before this one). When the range covers the checksum
/// itself, it counts as zero (GPT). <c>Read</c> and <c>Validate</c> report a mismatch; <c>Write</c> computes it.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class ChecksumAttribute : Attribute
{
    /// <summary>A checksum computed with <paramref name="algorithm"/>.</summary>
    public ChecksumAttribute(ChecksumAlgorithm algorithm) => Algorithm = algorithm;

    /// <summary>The algorithm.</summary>
    public ChecksumAlgorithm Algorithm { get; }

    /// <summary>The member whose first byte starts the range (default: the first member).</summary>
    public string? From { get; set; }

    /// <summary>The member whose last byte ends the range (default: the member before the checksum).</summary>
    public string? To { get; set; }
}

/// <summary>
/// Maps a partial property onto <see cref="Count"/> bits of an integer member, starting at bit <see cref="FirstBit"/>
/// (bit 0 is the least significant, as in qcow2's and most specs' "bit 63"; deku's <c>bits</c>, Kaitai's <c>bX</c>).
/// The generator implements the property: the getter extracts the bits, the setter replaces them and leaves every other
/// bit of the member as it is, and throws <see cref="ArgumentOutOfRangeException"/> for a value that does not fit.
/// <see cref="ReservedAttribute"/> (the bits must be zero), <see cref="RangeAttribute"/> and <see cref="OneOfAttribute"/> on the
/// property are checked by <c>Read</c> and <c>Validate</c>, at the offset of the member.
/// <code>
/// [Field] public ushort OffsetAndFlags;
/// [Bits(nameof(OffsetAndFlags), 12, 4), Range(5, 15)] public partial byte DataOffset { get; set; }
/// [Bits(nameof(OffsetAndFlags), 0, 9)] public partial TcpFlags Flags { get; set; }
/// </code>
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false)]
public sealed class BitsAttribute : Attribute
{
    /// <summary>Maps the property onto bits <paramref name="firstBit"/> .. <paramref name="firstBit"/> + <paramref name="count"/> - 1 of <paramref name="member"/>.</summary>
    public BitsAttribute(string member, int firstBit, int count)
    {
        Member = member;
        FirstBit = firstBit;
        Count = count;
    }

    /// <summary>The integer [Field] member that holds the bits.</summary>
    public string Member { get; }

    /// <summary>The lowest bit, counted from the least significant bit (0).</summary>
    public int FirstBit { get; }

    /// <summary>The number of bits.</summary>
    public int Count { get; }
}

/// <summary>
/// A member that is not read from the bytes but given to the layout: by the caller (the generated <c>Read</c> and
/// <c>TryRead</c> overloads take one parameter per argument, in declaration order) or by the containing layout
/// (<see cref="ArgsAttribute"/>), as binrw's <c>import</c> and Kaitai's <c>params</c>. Rules such as
/// <see cref="PresentWhenAttribute"/>, <see cref="LengthAttribute"/> and <see cref="ByteOrderFromAttribute"/> may name it like
/// an earlier field. <c>Write</c>, <c>GetEncodedSize</c> and <c>Validate</c> use the value the member holds.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class ArgumentAttribute : Attribute
{
}

/// <summary>
/// Passes values of this layout to the <see cref="ArgumentAttribute"/> members of a nested layout, in their declaration
/// order (binrw's <c>args</c>): <c>[Field, Args(nameof(ExtraDataSize))] public SnapshotExtra Extra;</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class ArgsAttribute : Attribute
{
    /// <summary>Passes the members <paramref name="members"/> (earlier fields or arguments of this layout).</summary>
    public ArgsAttribute(params string[] members) => Members = members;

    /// <summary>The names of the members passed.</summary>
    public string[] Members { get; }
}

/// <summary>
/// Decides the byte order at run time (Kaitai's calculated endianness, binrw's <c>is_big</c>): from an earlier integer
/// field, whose values <see cref="Little"/> and <see cref="Big"/> mean little- and big-endian (ELF's <c>EI_DATA</c> 1 and 2,
/// TIFF's <c>0x4949</c> and <c>0x4D4D</c>), or from an <see cref="ArgumentAttribute"/> member of type <see cref="ByteOrder"/>
/// that the caller or the containing layout passes. Multi-byte members declared after the field (every member, for an
/// argument) use that order unless their <see cref="FieldAttribute.ByteOrder"/> says otherwise; members before it use
/// the layout's declared order. Any other value of the field is reported by <c>Read</c> and <c>Validate</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Struct | AttributeTargets.Class, Inherited = false)]
public sealed class ByteOrderFromAttribute : Attribute
{
    /// <summary>Takes the byte order from <paramref name="member"/>.</summary>
    public ByteOrderFromAttribute(string member) => Member = member;

    /// <summary>The deciding member.</summary>
    public string Member { get; }

    /// <summary>The value of an integer member that means little-endian.</summary>
    public long Little { get; set; }

    /// <summary>The value of an integer member that means big-endian.</summary>
    public long Big { get; set; }
}
