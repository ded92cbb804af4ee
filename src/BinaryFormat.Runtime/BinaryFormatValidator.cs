using System.ComponentModel;
using System.Globalization;

namespace BinaryFormat;

/// <summary>
/// Collects the errors of one validation pass. Generated code reports declared rules through it, and a layout's
/// hand-written <c>partial void OnValidate(ref BinaryFormatValidator validator)</c> reports its own checks into
/// the same list. When reading, the first error stops the pass (<see cref="ShouldStop"/>); when validating, all are kept.
/// Nothing is allocated until an error is reported.
/// </summary>
public struct BinaryFormatValidator
{
    private readonly List<BinaryFormatError>? all;
    private readonly string prefix;
    // An array element's path ("Entries[3].") is built only when an error needs it, so that walking a valid table allocates nothing.
    private readonly string? element;
    private readonly int index;

    /// <summary>Starts a pass. Generated code calls this; <paramref name="all"/> is null when only the first error matters.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public BinaryFormatValidator(string typeName, string pathPrefix, long position, IValidationContext? context, List<BinaryFormatError>? all)
        : this(typeName, pathPrefix, null, 0, position, position, context, all)
    {
    }

    private BinaryFormatValidator(string typeName, string prefix, string? element, int index, long position, long origin,
        IValidationContext? context, List<BinaryFormatError>? all)
    {
        TypeName = typeName;
        this.prefix = prefix;
        this.element = element;
        this.index = index;
        Position = position;
        Origin = origin;
        Context = context;
        this.all = all;
        First = null;
    }

    /// <summary>The outermost declared type.</summary>
    public string TypeName { get; }

    /// <summary>
    /// Set by <c>TryRead</c>: the checksums were already checked against the bytes read, so validating the value need not
    /// encode it again to check them. Generated code passes it on to nested layouts and elements read with their own
    /// <c>ReadInto</c> (which checks their checksums), not to fixed-size ones read without them.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public bool ChecksumsVerified { get; set; }

    /// <summary>The dotted path of the layout being validated inside the outermost one ("" at the top).</summary>
    public readonly string PathPrefix => element is null
        ? prefix
        : string.Create(CultureInfo.InvariantCulture, $"{prefix}{element}[{index}].");

    /// <summary>The absolute byte offset of the outermost layout (the start of the input given to <c>Read</c>).</summary>
    public long Origin { get; }

    /// <summary>The absolute byte offset of the layout being validated.</summary>
    public long Position { get; }

    /// <summary>Run-time values that rules refer to, if the caller gave any.</summary>
    public IValidationContext? Context { get; }

    /// <summary>The first error reported, if any.</summary>
    public BinaryFormatError? First { get; private set; }

    /// <summary>True once an error was reported in a pass that keeps only the first.</summary>
    public readonly bool ShouldStop => all is null && First is not null;

    /// <summary>Reports a hand-written rule violation for the member at <paramref name="fieldOffset"/> inside this layout.</summary>
    /// <param name="member">The member name (use <c>nameof</c>).</param>
    /// <param name="fieldOffset">The member's offset inside this layout.</param>
    /// <param name="value">The value found.</param>
    /// <param name="expected">What is allowed, e.g. "a multiple of 65536".</param>
    public void Report(string member, int fieldOffset, string value, string expected) =>
        Report(member, fieldOffset, BinaryFormatRule.Custom, value, expected, $"expected {expected}, but got {value}");

    /// <summary>Reports a violation with a rule kind and a full description. Generated code uses this.</summary>
    public void Report(string member, long fieldOffset, BinaryFormatRule rule, string value, string expected, string description)
    {
        var error = new BinaryFormatError(TypeName, PathPrefix + member, Position + fieldOffset, rule, value, expected, description);
        First ??= error;
        all?.Add(error);
    }

    /// <summary>
    /// Reports that the input ends inside the member at <paramref name="fieldOffset"/>, which needs
    /// <paramref name="needed"/> bytes where <paramref name="available"/> remain. Generated code uses this.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void ReportShortInput(string member, long fieldOffset, long needed, long available)
    {
        var description = string.Create(CultureInfo.InvariantCulture, $"needs {needed} bytes, but only {available} are available");
        var path = PathPrefix + member;
        var error = new BinaryFormatError(TypeName, path.TrimEnd('.'), Position + fieldOffset, BinaryFormatRule.ShortInput,
            Format(available), Format(needed), description)
        {
            BytesNeeded = Position - Origin + fieldOffset + needed,
        };
        First ??= error;
        all?.Add(error);
    }

    // The reports of the declared rules: generated code passes the member, its offset and the value, and the message is
    // built here, so that each rule is one short call in the generated source and the wording lives in one place.

    /// <summary>Reports a broken <see cref="MagicAttribute"/>: <paramref name="value"/> is not <paramref name="magic"/> (both shown in hexadecimal). Generated code uses this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void ReportMagic(string member, long fieldOffset, ulong value, ulong magic, int hexDigits)
    {
        var expected = Hex(magic, hexDigits);
        var found = Hex(value, hexDigits);
        Report(member, fieldOffset, BinaryFormatRule.Magic, found, expected, $"expected {expected}, but got {found}");
    }

    /// <summary>Reports a <see cref="ReservedAttribute"/> integer that is not zero. Generated code uses this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void ReportReserved(string member, long fieldOffset, ulong value, int hexDigits)
    {
        var found = Hex(value, hexDigits);
        Report(member, fieldOffset, BinaryFormatRule.Reserved, found, "0", "expected 0 (reserved), but got " + found);
    }

    /// <summary>Reports a value outside its <see cref="RangeAttribute"/> <paramref name="min"/>..<paramref name="max"/>. Generated code uses this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void ReportRange<T>(string member, long fieldOffset, T value, long min, long max) where T : struct, IFormattable
    {
        var found = value.ToString(null, CultureInfo.InvariantCulture);
        var expected = string.Create(CultureInfo.InvariantCulture, $"{min}..{max}");
        Report(member, fieldOffset, BinaryFormatRule.Range, found, expected, found + " is outside " + expected);
    }

    /// <summary>Reports a value that is none of its <see cref="OneOfAttribute"/> values (<paramref name="allowed"/>: "1, 2, 4"). Generated code uses this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void ReportOneOf<T>(string member, long fieldOffset, T value, string allowed) where T : struct, IFormattable
    {
        var found = value.ToString(null, CultureInfo.InvariantCulture);
        Report(member, fieldOffset, BinaryFormatRule.OneOf, found, allowed, found + " is not one of " + allowed);
    }

    /// <summary>Reports a value that is not a multiple of its <see cref="AlignedToAttribute"/> alignment. Generated code uses this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void ReportAlignment<T>(string member, long fieldOffset, T value, ulong alignment) where T : struct, IFormattable
    {
        var found = value.ToString(null, CultureInfo.InvariantCulture);
        var multiple = alignment.ToString(CultureInfo.InvariantCulture);
        Report(member, fieldOffset, BinaryFormatRule.Alignment, found, "a multiple of " + multiple, found + " is not a multiple of " + multiple);
    }

    /// <summary>Reports the set bits <paramref name="unknownBits"/> that a <see cref="FlagsFieldAttribute"/> with <c>RejectUnknown</c> does not know. Generated code uses this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void ReportUnknownFlags(string member, long fieldOffset, ulong unknownBits, int hexDigits, ulong known)
    {
        var found = Hex(unknownBits, hexDigits);
        var knownText = "0x" + known.ToString("X", CultureInfo.InvariantCulture);
        Report(member, fieldOffset, BinaryFormatRule.UnknownFlags, found, "only bits of " + knownText, $"unknown bits {found} are set (known: {knownText})");
    }

    /// <summary>Returns a validator for a nested layout at <paramref name="fieldOffset"/> that shares this one's error list.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public readonly BinaryFormatValidator Nested(string member, long fieldOffset) =>
        new(TypeName, PathPrefix + member + ".", null, 0, Position + fieldOffset, Origin, Context, all);

    /// <summary>Returns a validator for element <paramref name="elementIndex"/> of an array member at <paramref name="fieldOffset"/>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public readonly BinaryFormatValidator Element(string member, int elementIndex, long fieldOffset) =>
        new(TypeName, PathPrefix, member, elementIndex, Position + fieldOffset, Origin, Context, all);

    /// <summary>Takes over the first error of a nested pass.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void Absorb(in BinaryFormatValidator nested) => First ??= nested.First;

    /// <summary>Formats an integer the way error messages show it.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc cref="Format(long)"/>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static string Format(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Formats an integer as hexadecimal with <paramref name="digits"/> digits (magic values, flags).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static string Hex(ulong value, int digits) => "0x" + value.ToString("X" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
