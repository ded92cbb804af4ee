using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;

namespace BinaryFormat;

/// <summary>
/// Implemented by every <see cref="BinaryFormatAttribute"/> type, fixed-size or variable-length, so that generic code can
/// read, write and validate any declared layout (<c>static T ReadAt&lt;T&gt;(...) where T : IBinaryLayout&lt;T&gt;</c>).
/// </summary>
/// <typeparam name="TSelf">The declared type.</typeparam>
public interface IBinaryLayout<TSelf> where TSelf : IBinaryLayout<TSelf>
{
    /// <summary>Reads and validates a value; <paramref name="position"/> is the absolute offset of <paramref name="source"/>[0], used in errors.</summary>
    /// <exception cref="BinaryFormatException">The input is too short or breaks a rule.</exception>
    static abstract TSelf Read(ReadOnlySpan<byte> source, long position);

    /// <summary>Reads and validates a value and says how many bytes of <paramref name="source"/> it took.</summary>
    /// <exception cref="BinaryFormatException">The input is too short or breaks a rule.</exception>
    static abstract TSelf Read(ReadOnlySpan<byte> source, long position, out int bytesConsumed);

    /// <summary>Reads and validates a value without throwing; on failure <paramref name="error"/> says why.</summary>
    static abstract bool TryRead(ReadOnlySpan<byte> source, long position, out TSelf value, [NotNullWhen(false)] out BinaryFormatError? error);

    /// <summary>
    /// Reads and validates a value without throwing and says how many bytes it took. When the input is too short,
    /// <paramref name="error"/> has the rule <see cref="BinaryFormatRule.ShortInput"/> and <see cref="BinaryFormatError.BytesNeeded"/>.
    /// </summary>
    static abstract bool TryRead(ReadOnlySpan<byte> source, long position, out TSelf value, out int bytesConsumed, [NotNullWhen(false)] out BinaryFormatError? error);

    /// <summary>Reads without the declared rules into <paramref name="value"/>, reporting input that ends too early into <paramref name="validator"/>; returns the bytes taken. Used for nesting.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    static abstract int ReadInto(ReadOnlySpan<byte> source, out TSelf value, ref BinaryFormatValidator validator);

    /// <summary>
    /// Whether the layout takes every byte it is given (a <c>[Length(ToEnd = true)]</c> member that no length bounds), so that
    /// reading it from a stream or file must read to the end. Generated code overrides it for such layouts.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    static virtual bool ReadsToEnd => false;

    /// <summary>
    /// Whether validating a value checks anything. Generated code says false for layouts without rules and without an
    /// <c>OnValidate</c> hook, which lets <see cref="BinaryLayout.Records{T}"/> read them without a validation pass.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    static virtual bool HasRules => true;

    /// <summary>The number of bytes <see cref="Write"/> writes for this value.</summary>
    int GetEncodedSize();

    /// <summary>Writes the declared fields into <paramref name="destination"/>; bytes no field declares are left as they are.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short, or a member cannot be encoded.</exception>
    void Write(Span<byte> destination);

    /// <summary>Returns every rule the value breaks, in field order, followed by those of the custom hook; allocates nothing when there are none.</summary>
    IReadOnlyList<BinaryFormatError> Validate(IValidationContext? context, long position);

    /// <summary>Reports the broken rules into <paramref name="validator"/>. Used for nesting.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    void ValidateInto(ref BinaryFormatValidator validator);
}

/// <summary>A layout whose encoded size is the same for every value (no variable-length members).</summary>
/// <typeparam name="TSelf">The declared type.</typeparam>
public interface IBinaryFormat<TSelf> : IBinaryLayout<TSelf> where TSelf : IBinaryFormat<TSelf>
{
    /// <summary>The encoded size in bytes.</summary>
    static abstract int Size { get; }

    /// <summary>Reads the fields without validating them; <paramref name="source"/> must hold at least <see cref="Size"/> bytes.</summary>
    static abstract TSelf ReadUnchecked(ReadOnlySpan<byte> source);
}

/// <summary>Values known only at run time that declared rules refer to (for example the cluster size of an image).</summary>
public interface IValidationContext
{
    /// <summary>Looks up a value by name.</summary>
    bool TryGetValue(string name, out long value);
}

/// <summary>A simple dictionary-backed <see cref="IValidationContext"/>.</summary>
public sealed class ValidationContext : IValidationContext
{
    private readonly Dictionary<string, long> values = new(StringComparer.Ordinal);

    /// <summary>Sets a value and returns this context, for chaining.</summary>
    public ValidationContext Set(string name, long value)
    {
        values[name] = value;
        return this;
    }

    /// <inheritdoc />
    public bool TryGetValue(string name, out long value) => values.TryGetValue(name, out value);
}
