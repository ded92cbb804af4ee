using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;

namespace BinaryFormat.Generator;

// The models below are what the incremental pipeline caches. They hold only strings, numbers and
// equatable arrays (never symbols, syntax or locations), so that an unrelated edit leaves them equal
// and the emitter step is skipped.

/// <summary>A declared layout, ready to emit.</summary>
internal sealed record TypeModel(
    string? Namespace,
    string Name,
    string FullyQualifiedName,
    string Keyword,
    bool IsValueType,
    EquatableArray<ContainingTypeModel> ContainingTypes,
    int Size,
    EquatableArray<FieldModel> Fields)
{
    public string HintName =>
        (Namespace is null ? "" : Namespace + ".")
        + string.Concat(ContainingTypes.Select(t => t.Name + "."))
        + Name + ".g.cs";
}

/// <summary>A type that lexically contains the layout (it must be partial too).</summary>
internal sealed record ContainingTypeModel(string Keyword, string Name);

/// <summary>How a member is encoded.</summary>
internal enum FieldKind
{
    Integer,
    Boolean,
    Enum,
    Nested,
    ByteArray,
    InlineArray,
}

/// <summary>One member mapped to bytes, with its rules.</summary>
internal sealed record FieldModel(
    string Name,
    int Offset,
    int Width,
    FieldKind Kind,
    string TypeName,
    string IntegerType,
    bool IsSigned,
    bool BigEndian,
    bool IsReferenceType,
    ulong? Magic,
    bool Reserved,
    long? RangeMin,
    long? RangeMax,
    EquatableArray<long> OneOf,
    long AlignConstant,
    string? AlignMember,
    string? AlignContextKey,
    ulong? FlagsKnown,
    bool RejectUnknownFlags,
    EquatableArray<ConditionModel> Conditions,
    long Otherwise,
    bool IsRequired)
{
    public bool IsScalar => Kind is FieldKind.Integer or FieldKind.Enum or FieldKind.Boolean;
}

/// <summary>A <c>[PresentWhen]</c> condition on an earlier scalar member.</summary>
internal sealed record ConditionModel(string Member, string MemberIntegerType, bool MemberIsSigned, bool MemberIsBoolean, int Comparison, long Operand);

/// <summary>An immutable array with value equality, so that records holding it compare by content.</summary>
internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>
    where T : IEquatable<T>
{
    private readonly T[]? items;

    public EquatableArray(T[] items) => this.items = items;

    public static EquatableArray<T> Empty => new(Array.Empty<T>());

    public int Count => items?.Length ?? 0;

    public T this[int index] => items![index];

    public bool Equals(EquatableArray<T> other) => AsSpan().SequenceEqual(other.AsSpan());

    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = 17;
        foreach (var item in AsSpan())
            hash = unchecked(hash * 31 + (item?.GetHashCode() ?? 0));
        return hash;
    }

    public ReadOnlySpan<T> AsSpan() => items is null ? ReadOnlySpan<T>.Empty : items.AsSpan();

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(items ?? Array.Empty<T>())).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

internal static class EquatableArrayExtensions
{
    public static EquatableArray<T> ToEquatableArray<T>(this IEnumerable<T> items)
        where T : IEquatable<T> => new(items.ToArray());
}
