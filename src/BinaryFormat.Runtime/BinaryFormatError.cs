using System.Globalization;

namespace BinaryFormat;

/// <summary>Which rule an error breaks.</summary>
public enum BinaryFormatRule
{
    /// <summary>The input holds fewer bytes than the layout needs.</summary>
    ShortInput,
    /// <summary>A <see cref="MagicAttribute"/> value differs.</summary>
    Magic,
    /// <summary>A <see cref="ReservedAttribute"/> field is not zero.</summary>
    Reserved,
    /// <summary>A <see cref="RangeAttribute"/> is not met.</summary>
    Range,
    /// <summary>A <see cref="OneOfAttribute"/> is not met.</summary>
    OneOf,
    /// <summary>An <see cref="AlignedToAttribute"/> is not met.</summary>
    Alignment,
    /// <summary>A <see cref="FlagsFieldAttribute"/> with <c>RejectUnknown</c> found unknown bits.</summary>
    UnknownFlags,
    /// <summary>A hand-written check in the layout's <c>OnValidate</c> hook.</summary>
    Custom,
    /// <summary>A length or count member disagrees with the value it measures, or a length does not fit its data.</summary>
    Length,
    /// <summary>A string cannot be encoded or decoded in its declared encoding.</summary>
    Encoding,
    /// <summary>A <see cref="ChecksumAttribute"/> field differs from the checksum of its bytes.</summary>
    Checksum,
    /// <summary>A <see cref="UntilAttribute"/> array ends before its terminator, or a <see cref="NullTerminatedAttribute"/> string before its NUL.</summary>
    Terminator,
}

/// <summary>
/// One broken rule: where (type, member path, absolute byte offset), what was found and what was expected.
/// <see cref="Message"/> reads like <c>Qcow2Header.ClusterBits at offset 20: 8 is outside 9..21</c>.
/// </summary>
public sealed class BinaryFormatError
{
    /// <summary>Creates an error; <paramref name="description"/> is the part after the colon.</summary>
    public BinaryFormatError(string typeName, string memberPath, long offset, BinaryFormatRule rule, string value, string expected, string description)
    {
        TypeName = typeName;
        MemberPath = memberPath;
        Offset = offset;
        Rule = rule;
        Value = value;
        Expected = expected;
        Description = description;
    }

    /// <summary>The declared type that was read (the outermost one for nested layouts).</summary>
    public string TypeName { get; }

    /// <summary>The member, dotted through nested layouts (<c>Extension.Reserved</c>); empty for short input.</summary>
    public string MemberPath { get; }

    /// <summary>The absolute byte offset of the member (or of the layout, for short input).</summary>
    public long Offset { get; }

    /// <summary>The rule that was broken.</summary>
    public BinaryFormatRule Rule { get; }

    /// <summary>The value found, as text.</summary>
    public string Value { get; }

    /// <summary>What the rule allows, as text.</summary>
    public string Expected { get; }

    /// <summary>The human description after the location, e.g. <c>8 is outside 9..21</c>.</summary>
    public string Description { get; }

    /// <summary>The full message: <c>Type.Member at offset N: description</c>.</summary>
    public string Message => MemberPath.Length == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{TypeName} at offset {Offset}: {Description}")
        : string.Create(CultureInfo.InvariantCulture, $"{TypeName}.{MemberPath} at offset {Offset}: {Description}");

    /// <inheritdoc />
    public override string ToString() => Message;

    /// <summary>
    /// For <see cref="BinaryFormatRule.ShortInput"/>: how many bytes, counted from the start of the input given to
    /// <c>Read</c>, the input must hold at least (read more and try again); 0 for other rules.
    /// </summary>
    public long BytesNeeded { get; init; }

    /// <summary>The error for input shorter than the layout.</summary>
    public static BinaryFormatError ShortInput(string typeName, long offset, int needed, int available) =>
        new(typeName, "", offset, BinaryFormatRule.ShortInput,
            available.ToString(CultureInfo.InvariantCulture), needed.ToString(CultureInfo.InvariantCulture),
            string.Create(CultureInfo.InvariantCulture, $"needs {needed} bytes, but only {available} are available"))
        {
            BytesNeeded = needed,
        };
}

/// <summary>Thrown by generated <c>Read</c> methods; <see cref="Error"/> holds the details.</summary>
public sealed class BinaryFormatException : Exception
{
    /// <summary>Wraps <paramref name="error"/>.</summary>
    public BinaryFormatException(BinaryFormatError error)
        : base(error.Message) => Error = error;

    /// <summary>The broken rule.</summary>
    public BinaryFormatError Error { get; }
}
