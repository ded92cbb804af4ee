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
}

/// <summary>Maps a field or settable property to the bytes at a byte offset from the start of the layout.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class FieldAttribute : Attribute
{
    /// <summary>Maps the member to the bytes at <paramref name="offset"/>.</summary>
    public FieldAttribute(int offset) => Offset = offset;

    /// <summary>The byte offset from the start of the layout.</summary>
    public int Offset { get; }

    /// <summary>Overrides the layout's byte order for this field.</summary>
    public ByteOrder ByteOrder { get; set; }

    /// <summary>The length in bytes of a <c>byte[]</c> block (inline arrays carry their own length).</summary>
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

/// <summary>The field must be zero when read; <c>Write</c> always writes zero.</summary>
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
