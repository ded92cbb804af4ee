namespace BinaryFormat;

/// <summary>
/// Implemented by every <see cref="BinaryFormatAttribute"/> type, so that generic code can read, write and
/// validate any declared layout (<c>static T ReadAt&lt;T&gt;(...) where T : IBinaryFormat&lt;T&gt;</c>).
/// </summary>
/// <typeparam name="TSelf">The declared type.</typeparam>
public interface IBinaryFormat<TSelf> where TSelf : IBinaryFormat<TSelf>
{
    /// <summary>The encoded size in bytes.</summary>
    static abstract int Size { get; }

    /// <summary>Reads and validates a value; <paramref name="position"/> is the absolute offset of <paramref name="source"/>[0], used in errors.</summary>
    /// <exception cref="BinaryFormatException">The input is too short or breaks a rule.</exception>
    static abstract TSelf Read(ReadOnlySpan<byte> source, long position);

    /// <summary>Reads and validates a value without throwing; on failure <paramref name="error"/> says why.</summary>
    static abstract bool TryRead(ReadOnlySpan<byte> source, long position, out TSelf value, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out BinaryFormatError? error);

    /// <summary>Writes the declared fields into <paramref name="destination"/>; bytes no field declares are left as they are.</summary>
    void Write(Span<byte> destination);

    /// <summary>Returns every rule the value breaks, in field order, followed by those of the custom hook.</summary>
    IReadOnlyList<BinaryFormatError> Validate(IValidationContext? context, long position);
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
