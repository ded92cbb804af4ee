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
    EquatableArray<FieldModel> Fields,
    bool IsVariable,
    bool SizeNameTaken,
    bool GeneratesEquality,
    EquatableArray<BitsModel> Bits,
    EquatableArray<ArgumentModel> Arguments,
    bool HasValidateHook)
{
    /// <summary>The name of the size constant: <c>Size</c>, or <c>EncodedSize</c> when a member already is called Size.</summary>
    public string SizeConstant => SizeNameTaken ? "EncodedSize" : "Size";

    /// <summary><c>[BinaryFormat(GenerateView = true)]</c>: a <c>View</c> ref struct is emitted too (EmitterViews.cs).</summary>
    public bool GeneratesView { get; init; }

    public string HintName =>
        (Namespace is null ? "" : Namespace + ".")
        + string.Concat(ContainingTypes.Select(t => t.Name + "."))
        + Name + ".g.cs";
}

/// <summary>
/// A layout with errors: no reader or writer is generated, only the signatures of the generated methods (throwing), so
/// that code using it does not fail with a CS0117 at every use site on top of the BF diagnostics. When the layout asks
/// for a view, <see cref="ViewProperties"/> lists the properties of its throwing <c>View</c> (else null), for the same
/// reason (CS0426).
/// </summary>
internal sealed record StubModel(
    string? Namespace,
    string Name,
    string FullyQualifiedName,
    string Keyword,
    EquatableArray<ContainingTypeModel> ContainingTypes,
    EquatableArray<string> TakenNames,
    EquatableArray<PartialPropertyModel> PartialProperties,
    EquatableArray<StubViewPropertyModel>? ViewProperties)
{
    public string HintName =>
        (Namespace is null ? "" : Namespace + ".")
        + string.Concat(ContainingTypes.Select(t => t.Name + "."))
        + Name + ".g.cs";
}

/// <summary>An <c>[Argument]</c> member: set by the caller or the container before the fields are read.</summary>
internal sealed record ArgumentModel(string Name, string TypeName);

/// <summary>A partial property the generator must implement even in a stub, so that the compiler reports no CS9248 on top of the BF diagnostics.</summary>
/// <summary>A property of the stub <c>View</c> of a layout with errors: a <c>[Field]</c> member and the type its view property would have.</summary>
internal sealed record StubViewPropertyModel(string TypeName, string Name);

internal sealed record PartialPropertyModel(string Modifiers, string TypeName, string Name, bool HasGetter, string? Setter);

/// <summary>
/// A <c>[Bits]</c> partial property: <see cref="Count"/> bits of the integer member <see cref="Container"/> from
/// <see cref="FirstBit"/> (0 = least significant), seen as a value of the property's type. <see cref="Rules"/> carries its
/// [Reserved]/[Range]/[OneOf] rules in the shape the emitter validates fields with (name, kind, integer type and width of the property).
/// </summary>
internal sealed record BitsModel(
    string Modifiers,
    string Container,
    string ContainerIntegerType,
    int FirstBit,
    int Count,
    FieldModel Rules)
{
    public string Name => Rules.Name;

    /// <summary>The mask of <see cref="Count"/> low bits.</summary>
    public ulong Mask => Count == 64 ? ulong.MaxValue : (1UL << Count) - 1;

    public bool HasRules => Rules.Reserved || Rules.RangeMin is not null || Rules.OneOf.Count > 0;
}

/// <summary>What the parser makes of one [BinaryFormat] type: a model to emit, or a stub when it has errors.</summary>
internal sealed record ParseResult(TypeModel? Model, StubModel? Stub);

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
    /// <summary><c>ReadOnlyMemory&lt;byte&gt;</c>.</summary>
    Memory,
    String,
    Array,
    /// <summary>A member whose layout is chosen by a tag: <c>[SwitchOn]</c> with <c>[Case]</c>s.</summary>
    Switch,
}

/// <summary>What a length or count member measures, so that Write can fill it in and Validate can check it.</summary>
internal enum MeasureKind
{
    None,
    /// <summary>The byte length of a byte block, string or array.</summary>
    Bytes,
    /// <summary>The element count of an array.</summary>
    Count,
    /// <summary>The tag of a <c>[SwitchOn]</c> member: the case value of the layout it holds.</summary>
    Tag,
}

/// <summary>One <c>[Case]</c> of a switched member; Value is null for the fallback.</summary>
internal sealed record CaseModel(long? Value, string TypeName);

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

    /// <summary>Where the bytes end is known only once the value is read: its own length varies, or it follows such a member and is conditional.</summary>
    public bool IsDynamic => Width < 0 || (Offset < 0 && Conditions.Count > 0);

    /// <summary>Lies after the first dynamic member, so its offset is known only at run time.</summary>
    public bool FollowsDynamic => Offset < 0;

    public string? LengthMember { get; init; }
    public int LengthConstant { get; init; }
    public bool LengthToEnd { get; init; }
    public string? CountMember { get; init; }
    public int CountConstant { get; init; }
    public string? StrideMember { get; init; }
    public int StrideConstant { get; init; }
    public string? UntilMember { get; init; }
    public long? UntilValue { get; init; }
    public bool NullTerminated { get; init; }
    /// <summary>For a <c>[PadTo(n)]</c> byte block: n.</summary>
    public int PadTo { get; init; }
    /// <summary>For a <c>[SwitchOn]</c> member: the tag member and the cases, fallback last.</summary>
    public string? SwitchMember { get; init; }
    /// <summary>For a <c>[Checksum]</c> member: the <c>ChecksumAlgorithm</c> value and the first and last members of its range.</summary>
    public int? Checksum { get; init; }
    public string? ChecksumFrom { get; init; }
    public string? ChecksumTo { get; init; }
    public EquatableArray<CaseModel> Cases { get; init; } = EquatableArray<CaseModel>.Empty;
    /// <summary>The <c>TextEncoding</c> value of a string.</summary>
    public int Encoding { get; init; }
    /// <summary>The element of an array member (its Name is unused).</summary>
    public FieldModel? Element { get; init; }
    /// <summary>For a length or count member: the member it measures.</summary>
    public string? Measures { get; init; }
    public MeasureKind MeasureKind { get; init; }
    /// <summary>
    /// For a member whose byte order is decided at run time (<c>[ByteOrderFrom]</c>): the test that means big-endian, with
    /// <c>{0}</c> standing for the instance (<c>value</c> when reading, <c>this</c> when writing).
    /// </summary>
    public string? BigEndianWhen { get; init; }
    /// <summary>For a nested layout with <c>[Args]</c>: the members passed, and the types of the nested layout's arguments.</summary>
    public EquatableArray<string> Args { get; init; } = EquatableArray<string>.Empty;
    public EquatableArray<string> ArgTypes { get; init; } = EquatableArray<string>.Empty;
    /// <summary>For a nested layout (or an array of them): whether that layout generates a <c>View</c>.</summary>
    public bool HasView { get; init; }
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
