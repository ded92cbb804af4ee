using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;

namespace BinaryFormat;

/// <summary>
/// Implemented by the generated <c>View</c> of a layout (<c>[BinaryFormat(GenerateView = true)]</c>): a <c>ref struct</c>
/// over the encoded bytes whose properties decode their field when read, so that tables can be walked without copying
/// or allocating (<see cref="BinaryViews{TView}"/>).
/// </summary>
/// <typeparam name="TSelf">The view type.</typeparam>
public interface IBinaryView<TSelf> where TSelf : IBinaryView<TSelf>, allows ref struct
{
    /// <summary>
    /// Makes a view over the value at the start of <paramref name="source"/>; <paramref name="position"/> is the absolute
    /// offset of <paramref name="source"/>[0], used in errors. Only the bytes the value takes are checked, not its rules.
    /// </summary>
    /// <exception cref="BinaryFormatException">The input is too short for the value.</exception>
    static abstract TSelf Create(ReadOnlySpan<byte> source, long position);

    /// <summary>The number of bytes the value takes.</summary>
    int EncodedSize { get; }
}

/// <summary>
/// A table of views: <see cref="Count"/> values every <c>stride</c> bytes, or each right after the previous one.
/// Walking it allocates nothing; each element is checked only for its length (call its <c>Validate</c> for its rules).
/// </summary>
/// <typeparam name="TView">The generated view of the element layout.</typeparam>
public readonly ref struct BinaryViews<TView> where TView : IBinaryView<TView>, allows ref struct
{
    private readonly ReadOnlySpan<byte> source;
    private readonly int stride;
    private readonly long position;

    /// <summary>
    /// A table of <paramref name="count"/> values starting at <paramref name="source"/>[0] (absolute offset
    /// <paramref name="position"/>), one every <paramref name="stride"/> bytes, or each right after the previous one when
    /// <paramref name="stride"/> is 0. Elements are checked against the span as the walk reaches them.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="stride"/> is negative.</exception>
    public BinaryViews(ReadOnlySpan<byte> source, int count, int stride = 0, long position = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(stride);
        this.source = source;
        Count = count;
        this.stride = stride;
        this.position = position;
    }

    /// <summary>The number of elements.</summary>
    public int Count { get; }

    /// <summary>The element at <paramref name="index"/>: direct with a stride, found by walking the elements before it without.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside 0..Count-1.</exception>
    /// <exception cref="BinaryFormatException">The element does not fit the span.</exception>
    public TView this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            var enumerator = GetEnumerator();
            if (stride > 0)
                return enumerator.At((long)index * stride);
            while (enumerator.MoveNext() && index-- > 0)
            {
            }
            return enumerator.Current;
        }
    }

    /// <summary>Starts the walk (for <c>foreach</c>).</summary>
    public Enumerator GetEnumerator() => new(source, Count, stride, position);

    /// <summary>Makes one view per <see cref="MoveNext"/>.</summary>
    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<byte> source;
        private readonly int count;
        private readonly int stride;
        private readonly long position;
        private int index;
        private int next;
        private TView current;

        internal Enumerator(ReadOnlySpan<byte> source, int count, int stride, long position)
        {
            this.source = source;
            this.count = count;
            this.stride = stride;
            this.position = position;
            index = 0;
            next = 0;
            current = default!;
        }

        /// <summary>The view made by the last <see cref="MoveNext"/>.</summary>
        public readonly TView Current => current;

        /// <summary>Moves to the next element.</summary>
        /// <exception cref="BinaryFormatException">The element does not fit the span.</exception>
        public bool MoveNext()
        {
            if (index >= count)
                return false;
            current = At(next);
            next += stride > 0 ? stride : current.EncodedSize;
            index++;
            return true;
        }

        internal readonly TView At(long offset)
        {
            if (offset > source.Length)
                BinaryLayout.ThrowShortInput(typeof(TView).DeclaringType?.Name ?? typeof(TView).Name, position, "", source.Length, offset - source.Length, 0);
            var start = (int)offset;
            var end = stride > 0 ? Math.Min(source.Length, start + stride) : source.Length;
            return TView.Create(source[start..end], position + start);
        }
    }
}

public static partial class BinaryLayout
{
    /// <summary>
    /// Walks <paramref name="count"/> values laid out every <paramref name="stride"/> bytes (0: each right after the
    /// previous one) as views, decoding only the fields read and allocating nothing:
    /// <c>foreach (var entry in BinaryLayout.Views&lt;GptEntry.View&gt;(table, 128, 128)) sum += entry.FirstLba;</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="stride"/> is negative.</exception>
    public static BinaryViews<TView> Views<TView>(ReadOnlySpan<byte> source, int count, int stride = 0, long position = 0)
        where TView : IBinaryView<TView>, allows ref struct => new(source, count, stride, position);

    /// <summary>
    /// The bytes a value of <typeparamref name="T"/> at the start of <paramref name="source"/> takes, found by reading it.
    /// Generated views call this for a member whose layout has no view of its own.
    /// </summary>
    /// <exception cref="BinaryFormatException">The input is too short.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static int EncodedSizeOf<T>(ReadOnlySpan<byte> source, long position) where T : IBinaryLayout<T>
    {
        var validator = new BinaryFormatValidator(typeof(T).Name, "", position, null, null);
        var consumed = T.ReadInto(source, out _, ref validator);
        if (validator.First is { } error)
            throw new BinaryFormatException(error);
        return consumed;
    }

    /// <summary>Throws the error of a view whose <paramref name="member"/> cannot be placed (a stride out of range, a tag without a case). Generated views call this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never), DoesNotReturn]
    public static void ThrowInvalid(string typeName, long position, string member, long fieldOffset, BinaryFormatRule rule, string value, string expected, string description)
    {
        var validator = new BinaryFormatValidator(typeName, "", position, null, null);
        validator.Report(member, fieldOffset, rule, value, expected, description);
        throw new BinaryFormatException(validator.First!);
    }

    /// <summary>Throws the error of a view over input that ends inside <paramref name="member"/>. Generated views call this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never), DoesNotReturn]
    public static void ThrowShortInput(string typeName, long position, string member, long fieldOffset, long needed, long available)
    {
        var validator = new BinaryFormatValidator(typeName, "", position, null, null);
        validator.ReportShortInput(member, fieldOffset, needed, available);
        throw new BinaryFormatException(validator.First!);
    }
}
