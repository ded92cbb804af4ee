using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace BinaryFormat;

/// <summary>Operations on any declared layout that need no generated code of their own.</summary>
public static partial class BinaryLayout
{
    /// <summary>
    /// Walks <paramref name="count"/> records of <typeparamref name="T"/> laid out every <paramref name="stride"/> bytes
    /// (0: each record right after the previous one), reading and validating each as the enumeration reaches it.
    /// Nothing is allocated for struct layouts: <c>foreach (var entry in BinaryLayout.Records&lt;GptEntry&gt;(table, 128, 128))</c>.
    /// </summary>
    public static RecordEnumerable<T> Records<T>(ReadOnlySpan<byte> source, int count, int stride = 0, long position = 0)
        where T : IBinaryLayout<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(stride);
        return new(source, count, stride, position);
    }

    /// <summary>Whether <typeparamref name="T"/> takes every byte it is given. Generated code calls this for nested layouts.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static bool ReadsToEnd<T>() where T : IBinaryLayout<T> => T.ReadsToEnd;

    /// <summary>The bytes an array of layouts takes when each is written right after the previous one. Generated code calls this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static int EncodedSize<T>(T[]? items) where T : IBinaryLayout<T>
    {
        var size = 0;
        if (items is not null)
        {
            foreach (var item in items)
                size = checked(size + (item is null ? 0 : item.GetEncodedSize()));
        }
        return size;
    }

    /// <summary><paramref name="count"/> × <paramref name="stride"/>, saturated at <see cref="long.MaxValue"/> (for the message of a count no input can hold).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static long Needed(ulong count, int stride) =>
        stride == 0 ? 0 : count > (ulong)long.MaxValue / (ulong)stride ? long.MaxValue : (long)count * stride;

    /// <summary>Writes kept padding bytes: as many of <paramref name="value"/> as fit, then zeros. Generated code calls this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void WritePadding(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        var kept = Math.Min(value.Length, destination.Length);
        value[..kept].CopyTo(destination);
        destination[kept..].Clear();
    }

    // Throw helpers keep the throwing code out of the generated Write methods, which the JIT then keeps small.

    /// <summary>Throws the exception of a <c>Write</c> whose destination is too short.</summary>
    [EditorBrowsable(EditorBrowsableState.Never), DoesNotReturn]
    public static void ThrowDestinationTooShort(string typeName, int needed, int available) =>
        throw new ArgumentException($"{typeName} needs {needed} bytes, but the destination holds {available}.", "destination");

    /// <summary>Throws the exception of a <c>Write</c> whose value cannot be encoded (an array of the wrong length, a stride too small...).</summary>
    [EditorBrowsable(EditorBrowsableState.Never), DoesNotReturn]
    public static void ThrowUnwritable(string typeName, string member, string problem) =>
        throw new ArgumentException($"{typeName}.{member} {problem}.");

    /// <summary>Throws the exception of a bitfield setter given a value wider than its bits.</summary>
    [EditorBrowsable(EditorBrowsableState.Never), DoesNotReturn]
    public static void ThrowBitsOutOfRange(string typeName, string member, ulong value, int count) =>
        throw new ArgumentOutOfRangeException(member, value,
            $"{typeName}.{member} holds {count} bits (0..{(count == 64 ? ulong.MaxValue : (1UL << count) - 1)}), so it cannot take {value}.");

    /// <summary>
    /// The <c>ReadInto</c> of a fixed-size layout that reports nothing while reading: input shorter than the layout is
    /// reported, anything else is read unchecked. Generated code calls this.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static int ReadInto<T>(ReadOnlySpan<byte> source, out T value, ref BinaryFormatValidator validator)
        where T : IBinaryFormat<T>
    {
        if (source.Length < T.Size)
        {
            value = default!;
            validator.ReportShortInput("", 0, T.Size, source.Length);
            return 0;
        }
        value = T.ReadUnchecked(source);
        return T.Size;
    }

    /// <summary>
    /// Reads a value with its <c>ReadInto</c> and then checks its rules, reporting the first error. Generated <c>TryRead</c>
    /// methods call this: layouts whose rules need a validator, always; the others only once their inlined checks failed,
    /// to build the error, so that this stays off their valid path.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never), MethodImpl(MethodImplOptions.NoInlining)]
    public static bool TryRead<T>(ReadOnlySpan<byte> source, long position, string typeName, out T value, out int bytesConsumed,
        [NotNullWhen(false)] out BinaryFormatError? error)
        where T : IBinaryLayout<T>
    {
        var validator = new BinaryFormatValidator(typeName, "", position, null, null);
        bytesConsumed = T.ReadInto(source, out value, ref validator);
        if (validator.First is null)
        {
            // ReadInto checked the checksums of what it read against the bytes; validating the value need not encode it again.
            validator.ChecksumsVerified = true;
            value.ValidateInto(ref validator);
        }
        error = validator.First;
        return error is null;
    }

    /// <summary>
    /// Runs the declared rules: first a pass that keeps only the first error and allocates nothing, and only when that
    /// finds one, a second pass that collects them all. Generated <c>Validate</c> methods call this.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static IReadOnlyList<BinaryFormatError> Validate<T>(in T value, string typeName, IValidationContext? context, long position)
        where T : IBinaryLayout<T>
    {
        var first = new BinaryFormatValidator(typeName, "", position, context, null);
        value.ValidateInto(ref first);
        if (first.First is null)
            return [];
        var errors = new List<BinaryFormatError>();
        var all = new BinaryFormatValidator(typeName, "", position, context, errors);
        value.ValidateInto(ref all);
        return errors;
    }
}

/// <summary>The records of <see cref="BinaryLayout.Records{T}"/>; use it in <c>foreach</c>.</summary>
public readonly ref struct RecordEnumerable<T> where T : IBinaryLayout<T>
{
    private readonly ReadOnlySpan<byte> source;
    private readonly int count;
    private readonly int stride;
    private readonly long position;

    internal RecordEnumerable(ReadOnlySpan<byte> source, int count, int stride, long position)
    {
        this.source = source;
        this.count = count;
        this.stride = stride;
        this.position = position;
    }

    /// <summary>Starts the walk.</summary>
    public RecordEnumerator<T> GetEnumerator() => new(source, count, stride, position);
}

/// <summary>Reads one record per <see cref="MoveNext"/>; a short or invalid record throws <see cref="BinaryFormatException"/> with its absolute offset.</summary>
public ref struct RecordEnumerator<T> where T : IBinaryLayout<T>
{
    private readonly ReadOnlySpan<byte> source;
    private readonly int count;
    private readonly int stride;
    private readonly long position;
    private int index;
    private int offset;
    private int consumed;

    internal RecordEnumerator(ReadOnlySpan<byte> source, int count, int stride, long position)
    {
        this.source = source;
        this.count = count;
        this.stride = stride;
        this.position = position;
        index = -1;
        offset = 0;
        consumed = 0;
        current = default!;
    }

    private T current;

    /// <summary>The record read by the last <see cref="MoveNext"/>.</summary>
    public readonly T Current => current;

    /// <summary>The offset of <see cref="Current"/> from the start of the span.</summary>
    public readonly int CurrentOffset => offset;

    /// <summary>Reads the next record.</summary>
    /// <exception cref="BinaryFormatException">The record does not fit the span or breaks a rule.</exception>
    public bool MoveNext()
    {
        if (index + 1 >= count)
            return false;
        var next = index < 0 ? 0 : offset + (stride > 0 ? stride : consumed);
        if (next > source.Length)
            throw new BinaryFormatException(BinaryFormatError.ShortInput(typeof(T).Name, position + source.Length, next - source.Length, 0));
        if (T.HasRules)
        {
            current = T.Read(source[next..], position + next, out consumed);
        }
        else
        {
            // Nothing to validate: read straight into the current record, without the copies of Read's return path.
            var validator = new BinaryFormatValidator(typeof(T).Name, "", position + next, null, null);
            consumed = T.ReadInto(source[next..], out current, ref validator);
            if (validator.First is { } error)
                throw new BinaryFormatException(error);
        }
        offset = next;
        index++;
        return true;
    }
}
