using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace BinaryFormat.Generator;

/// <summary>
/// Turns a <c>[BinaryFormat]</c> type symbol into a <see cref="TypeModel"/> and a list of diagnostics.
/// The generator keeps only the model (and skips types with errors); the analyzer reports the diagnostics.
/// Both share this code, so what is reported is exactly what stops generation.
/// </summary>
internal static class Parser
{
    public const string AttributeNamespace = "BinaryFormat";
    public const string BinaryFormatAttributeName = "BinaryFormat.BinaryFormatAttribute";

    private const int MaxNestingDepth = 32;

    /// <summary>What the emitter adds to every layout; a field or property of the same name would clash with it.</summary>
    private static readonly HashSet<string> GeneratedMemberNames =
        ["Read", "TryRead", "ReadUnchecked", "ReadInto", "Write", "GetEncodedSize", "Validate", "ValidateInto", "OnValidate"];

    /// <summary>The model, or for a type with errors that can still take generated members, a stub.</summary>
    public static ParseResult ParseForGeneration(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var model = Parse(type, cancellationToken).Model;
        if (model is not null)
            return new ParseResult(model, null);
        for (var outer = type; outer is not null; outer = outer.ContainingType)
        {
            if (!IsPartial(outer) || outer.IsGenericType)
                return new ParseResult(null, null);
        }
        var containing = new List<ContainingTypeModel>();
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
            containing.Insert(0, new ContainingTypeModel(Keyword(outer), outer.Name));
        return new ParseResult(null, new StubModel(
            type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(),
            type.Name,
            type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            Keyword(type),
            containing.ToEquatableArray(),
            type.GetMembers().Where(m => !m.IsImplicitlyDeclared).Select(m => m.Name).Distinct().OrderBy(n => n, StringComparer.Ordinal).ToEquatableArray(),
            type.GetMembers().OfType<IPropertySymbol>()
                .Where(p => p.IsPartialDefinition && p.PartialImplementationPart is null && FindAttribute(p, "BitsAttribute") is not null)
                .Select(p => new PartialPropertyModel(Modifiers(p), p.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat), p.Name,
                    p.GetMethod is not null, p.SetMethod is null ? null : p.SetMethod.IsInitOnly ? "init" : "set"))
                .ToEquatableArray(),
            GeneratesView(type) ? StubViewProperties(type).ToEquatableArray() : null));
    }

    /// <summary>
    /// The properties a layout with errors would have on its view, typed as <see cref="Emitter"/> types them where that can
    /// be told without a model: scalars as themselves, viewable layouts (and arrays of them) as views, the rest as bytes.
    /// </summary>
    private static IEnumerable<StubViewPropertyModel> StubViewProperties(INamedTypeSymbol type)
    {
        foreach (var member in type.GetMembers())
        {
            if (member.IsStatic || !member.GetAttributes().Any(a => IsAttribute(a, "FieldAttribute")))
                continue;
            var memberType = member switch { IFieldSymbol f => f.Type, IPropertySymbol p => p.Type, _ => null };
            if (memberType is null)
                continue;
            var typeName = memberType switch
            {
                _ when ClassifyScalar(memberType) is not null => memberType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                INamedTypeSymbol nested when GeneratesView(nested) => nested.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + ".View",
                IArrayTypeSymbol { ElementType: INamedTypeSymbol element } when GeneratesView(element) =>
                    $"global::BinaryFormat.BinaryViews<{element.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)}.View>",
                _ => "global::System.ReadOnlySpan<byte>",
            };
            yield return new StubViewPropertyModel(typeName, member.Name);
        }
    }

    public static (TypeModel? Model, ImmutableArray<Diagnostic> Diagnostics) Parse(INamedTypeSymbol type, CancellationToken cancellationToken) =>
        Parse(type, cancellationToken, ImmutableStack<INamedTypeSymbol>.Empty);

    private static (TypeModel? Model, ImmutableArray<Diagnostic> Diagnostics) Parse(INamedTypeSymbol type, CancellationToken cancellationToken, ImmutableStack<INamedTypeSymbol> parsing)
    {
        parsing = parsing.Push(type);
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var typeLocation = type.Locations.FirstOrDefault();

        if (!IsPartial(type))
            diagnostics.Add(Diagnostic.Create(Diagnostics.TypeNotPartial, typeLocation, type.Name));
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            if (!IsPartial(outer))
                diagnostics.Add(Diagnostic.Create(Diagnostics.TypeNotPartial, outer.Locations.FirstOrDefault(), outer.Name));
        }
        if (type.IsGenericType)
            diagnostics.Add(Diagnostic.Create(Diagnostics.GenericType, typeLocation, type.Name));
        if (type.TypeKind == TypeKind.Class && !type.IsAbstract &&
            !type.InstanceConstructors.Any(c => c.Parameters.Length == 0 && c.DeclaredAccessibility != Accessibility.Private))
            diagnostics.Add(Diagnostic.Create(Diagnostics.NoParameterlessConstructor, typeLocation, type.Name));

        var formatAttribute = type.GetAttributes().First(a => IsAttribute(a, "BinaryFormatAttribute"));
        var defaultBigEndian = formatAttribute.ConstructorArguments.Length == 0 || ToLong(formatAttribute.ConstructorArguments[0].Value) == 0;
        var declaredSize = NamedInt(formatAttribute, "Size") ?? 0;

        var fields = new List<(FieldModel Model, ISymbol Member, AttributeData FieldAttribute)>();
        var bits = new List<(BitsModel Model, ISymbol Member, AttributeData Attribute)>();
        var arguments = new List<ArgumentModel>();
        // A nested layout with errors of its own: nothing is generated here either, but the errors are reported there only.
        var dependsOnInvalidLayout = false;
        foreach (var member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (member is IFieldSymbol or IPropertySymbol && !member.IsImplicitlyDeclared && GeneratedMemberNames.Contains(member.Name))
                diagnostics.Add(Diagnostic.Create(Diagnostics.NameCollision, member.Locations.FirstOrDefault(), member.Name, "a generated method"));
            // A member called Size (qcow2's header has one) moves the size constant to EncodedSize.
            if (member.Name == "EncodedSize" && IsDeclaredByUser(member) && type.GetMembers("Size").Any())
                diagnostics.Add(Diagnostic.Create(Diagnostics.NameCollision, member.Locations.FirstOrDefault(), member.Name, "the size constant, as 'Size' is taken"));
            var fieldAttribute = member.GetAttributes().FirstOrDefault(a => IsAttribute(a, "FieldAttribute"));
            if (FindAttribute(member, "ArgumentAttribute") is { } argumentAttribute)
            {
                var argumentType = MemberType(member);
                if (fieldAttribute is not null || argumentType is null || ClassifyScalar(argumentType) is null)
                    diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, AttributeLocation(argumentAttribute) ?? member.Locations.FirstOrDefault(),
                        fieldAttribute is not null ? "[Argument] with [Field]" : "[Argument]", member.Name, argumentType?.ToDisplayString() ?? "?"));
                else if (member is IFieldSymbol { IsReadOnly: true } or IFieldSymbol { IsStatic: true } or IPropertySymbol { SetMethod: null or { IsInitOnly: true } } or IPropertySymbol { IsStatic: true })
                    diagnostics.Add(Diagnostic.Create(Diagnostics.MemberNotWritable, member.Locations.FirstOrDefault(), member.Name));
                else
                    arguments.Add(new ArgumentModel(member.Name, argumentType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)));
                continue;
            }
            if (FindAttribute(member, "BitsAttribute") is { } bitsAttribute)
            {
                if (fieldAttribute is not null)
                    diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, AttributeLocation(bitsAttribute) ?? member.Locations.FirstOrDefault(),
                        "[Bits] with [Field]", member.Name, MemberType(member)?.ToDisplayString() ?? "?"));
                else if (ParseBits(member, bitsAttribute, diagnostics) is { } parsedBits)
                    bits.Add(parsedBits);
                continue;
            }
            if (fieldAttribute is null)
            {
                if (member is IFieldSymbol { IsRequired: true } or IPropertySymbol { IsRequired: true })
                    diagnostics.Add(Diagnostic.Create(Diagnostics.RequiredNonField, member.Locations.FirstOrDefault(), member.Name));
                continue;
            }
            var field = ParseMember(member, fieldAttribute, defaultBigEndian, diagnostics, cancellationToken, parsing, ref dependsOnInvalidLayout);
            if (field is not null)
                fields.Add((field, member, fieldAttribute));
        }

        foreach (var (field, member, _) in fields)
        {
            if (field.FlagsKnown is not null && type.GetMembers(field.Name + "UnknownBits").Any(IsDeclaredByUser))
                diagnostics.Add(Diagnostic.Create(Diagnostics.NameCollision, type.GetMembers(field.Name + "UnknownBits")[0].Locations.FirstOrDefault(),
                    field.Name + "UnknownBits", "the unknown-bits property of [FlagsField] " + field.Name));
        }
        ApplyRunTimeByteOrder(type, fields, arguments, diagnostics);
        var firstDynamic = LayOut(fields, new HashSet<string>(arguments.Select(a => a.Name), StringComparer.Ordinal), diagnostics);
        // Fixed members by offset, then the members whose offsets are known only at run time, in declaration order.
        fields = fields.OrderBy(f => f.Model.FollowsDynamic ? 1 : 0).ThenBy(f => f.Model.FollowsDynamic ? 0 : f.Model.Offset).ToList();
        ResolveReferences(type, fields, arguments, diagnostics);
        ResolveBits(type, fields, bits, diagnostics);
        CheckOverlaps(fields, diagnostics);

        var fixedFields = fields.Where(f => !f.Model.FollowsDynamic && f.Model.Width >= 0).ToList();
        var end = fixedFields.Count == 0 ? 0 : fixedFields.Max(f => f.Model.Offset + f.Model.Width);
        if (firstDynamic is not null)
        {
            end = Math.Max(end, firstDynamic.Offset);
            if (declaredSize != 0)
                diagnostics.Add(Diagnostic.Create(Diagnostics.SizeOnVariableLayout, AttributeLocation(formatAttribute) ?? typeLocation, declaredSize, type.Name, firstDynamic.Name));
        }
        else if (declaredSize != 0 && declaredSize < end)
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.SizeTooSmall, AttributeLocation(formatAttribute) ?? typeLocation, declaredSize, type.Name, end));
        }
        var size = Math.Max(declaredSize, end);

        if (diagnostics.Count > 0 || dependsOnInvalidLayout)
            return (null, diagnostics.ToImmutable());

        var containing = new List<ContainingTypeModel>();
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
            containing.Insert(0, new ContainingTypeModel(Keyword(outer), outer.Name));

        var model = new TypeModel(
            type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(),
            type.Name,
            type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            Keyword(type),
            type.IsValueType,
            containing.ToEquatableArray(),
            size,
            fields.Select(f => f.Model).ToEquatableArray(),
            firstDynamic is not null,
            type.GetMembers("Size").Any(m => !m.IsImplicitlyDeclared),
            // The runtime's default struct equality throws on [InlineArray] fields; records and hand-written Equals are left alone.
            type.TypeKind == TypeKind.Struct && !type.IsRecord && fields.Any(f => f.Model.Kind == FieldKind.InlineArray)
                && !type.GetMembers("Equals").Concat(type.GetMembers("GetHashCode")).Any(m => !m.IsImplicitlyDeclared),
            bits.Select(b => b.Model).ToEquatableArray(),
            arguments.ToEquatableArray(),
            // Seen before generation, an OnValidate the type has is the user's implementation of the hook.
            type.GetMembers("OnValidate").Any(m => !m.IsImplicitlyDeclared))
        {
            GeneratesView = GeneratesView(type),
        };
        return (model, diagnostics.ToImmutable());
    }

    private static FieldModel? ParseMember(ISymbol member, AttributeData fieldAttribute, bool defaultBigEndian,
        ImmutableArray<Diagnostic>.Builder diagnostics, CancellationToken cancellationToken, ImmutableStack<INamedTypeSymbol> parsing, ref bool dependsOnInvalidLayout)
    {
        var location = member.Locations.FirstOrDefault();
        ITypeSymbol memberType;
        bool writable;
        switch (member)
        {
            case IFieldSymbol field:
                memberType = field.Type;
                writable = !field.IsStatic && !field.IsReadOnly && !field.IsConst;
                break;
            case IPropertySymbol property:
                memberType = property.Type;
                writable = !property.IsStatic && property.SetMethod is { IsInitOnly: false };
                break;
            default:
                return null;
        }

        // No offset: the member follows the one declared before it (LayOut assigns the offset).
        var offset = fieldAttribute.ConstructorArguments.Length > 0 ? (int)ToLong(fieldAttribute.ConstructorArguments[0].Value) : -1;
        var hadError = false;
        if (offset < 0 && fieldAttribute.ConstructorArguments.Length > 0)
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.NegativeOffset, AttributeLocation(fieldAttribute) ?? location, member.Name, offset));
            hadError = true;
        }
        if (!writable)
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.MemberNotWritable, location, member.Name));
            hadError = true;
        }

        var byteOrderArgument = NamedLong(fieldAttribute, "ByteOrder");
        var bigEndian = byteOrderArgument is null ? defaultBigEndian : byteOrderArgument == 0;
        var typeName = memberType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        var memberTypeDisplay = memberType.ToDisplayString();

        // The length, count and repetition attributes first: they decide the width of blocks, strings and arrays.
        var lengthAttribute = FindAttribute(member, "LengthAttribute");
        var countAttribute = FindAttribute(member, "CountAttribute");
        var strideAttribute = FindAttribute(member, "StrideAttribute");
        var untilAttribute = FindAttribute(member, "UntilAttribute");
        var nullTerminatedAttribute = FindAttribute(member, "NullTerminatedAttribute");
        var encodingAttribute = FindAttribute(member, "EncodingAttribute");
        var padToAttribute = FindAttribute(member, "PadToAttribute");
        var argsAttribute = FindAttribute(member, "ArgsAttribute");
        var args = argsAttribute is null ? [] : argsAttribute.ConstructorArguments.SelectMany(a => a.Kind == TypedConstantKind.Array ? a.Values : ImmutableArray.Create(a))
            .Select(v => v.Value as string ?? "").ToList();
        var argTypes = new List<string>();
        var padTo = padToAttribute is null ? 0 : (int)ToLong(padToAttribute.ConstructorArguments[0].Value);
        if (padToAttribute is not null && padTo <= 0)
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.InvalidLength, AttributeLocation(padToAttribute) ?? location, member.Name));
            hadError = true;
        }
        string? lengthMember = null;
        var lengthConstant = NamedInt(fieldAttribute, "Length") ?? 0;
        var lengthToEnd = false;
        if (lengthAttribute is not null)
        {
            if (lengthAttribute.ConstructorArguments.Length == 1 && lengthAttribute.ConstructorArguments[0].Value is string lengthName)
                lengthMember = lengthName;
            else if (lengthAttribute.ConstructorArguments.Length == 1)
                lengthConstant = (int)ToLong(lengthAttribute.ConstructorArguments[0].Value);
            lengthToEnd = NamedLong(lengthAttribute, "ToEnd") == 1;
            if ((lengthMember is not null ? 1 : 0) + (lengthConstant != 0 || lengthAttribute.ConstructorArguments.Length == 1 && lengthMember is null ? 1 : 0) + (lengthToEnd ? 1 : 0) != 1
                || lengthAttribute.ConstructorArguments.Length == 1 && lengthMember is null && lengthConstant <= 0)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.InvalidLength, AttributeLocation(lengthAttribute) ?? location, member.Name));
                hadError = true;
            }
        }
        string? countMember = null;
        var countConstant = 0;
        if (countAttribute is not null)
        {
            if (countAttribute.ConstructorArguments[0].Value is string countName)
                countMember = countName;
            else
                countConstant = (int)ToLong(countAttribute.ConstructorArguments[0].Value);
            if (countMember is null && countConstant < 0)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.InvalidLength, AttributeLocation(countAttribute) ?? location, member.Name));
                hadError = true;
            }
        }
        string? strideMember = null;
        var strideConstant = 0;
        if (strideAttribute is not null)
        {
            if (strideAttribute.ConstructorArguments[0].Value is string strideName)
                strideMember = strideName;
            else
                strideConstant = (int)ToLong(strideAttribute.ConstructorArguments[0].Value);
        }
        var lengthSpecs = new List<(string Name, AttributeData Attribute)>();
        if (lengthAttribute is not null) lengthSpecs.Add(("[Length]", lengthAttribute));
        if (countAttribute is not null) lengthSpecs.Add(("[Count]", countAttribute));
        if (untilAttribute is not null) lengthSpecs.Add(("[Until]", untilAttribute));
        if (nullTerminatedAttribute is not null) lengthSpecs.Add(("[NullTerminated]", nullTerminatedAttribute));
        if (padToAttribute is not null) lengthSpecs.Add(("[PadTo]", padToAttribute));
        if (lengthConstant > 0 && lengthAttribute is null && padToAttribute is not null) lengthSpecs.Insert(0, ("[Field(Length = n)]", fieldAttribute));
        if (lengthSpecs.Count > 1)
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.ConflictingLength, AttributeLocation(lengthSpecs[1].Attribute) ?? location, member.Name, lengthSpecs[0].Name, lengthSpecs[1].Name));
            hadError = true;
        }

        FieldKind kind;
        int width;
        var integerType = "";
        var signed = false;
        FieldModel? element = null;
        string? untilMember = null;
        long? untilValue = null;
        var encoding = encodingAttribute is null ? 0 : (int)ToLong(encodingAttribute.ConstructorArguments[0].Value);
        var hasLength = lengthMember is not null || lengthConstant > 0 || lengthToEnd || padToAttribute is not null;
        void RequireLength(string what)
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.MissingLengthSpecification, location, member.Name, memberTypeDisplay, what));
            hadError = true;
        }
        var checksumAttribute = FindAttribute(member, "ChecksumAttribute");
        var switchAttribute = FindAttribute(member, "SwitchOnAttribute");
        var caseAttributes = member.GetAttributes().Where(a => IsAttribute(a, "CaseAttribute")).ToList();
        var cases = new List<CaseModel>();
        if (switchAttribute is not null)
        {
            kind = FieldKind.Switch;
            width = -1;
            CaseModel? fallback = null;
            var seen = new HashSet<long>();
            foreach (var caseAttribute in caseAttributes)
            {
                var caseLocation = AttributeLocation(caseAttribute) ?? location;
                var layoutType = caseAttribute.ConstructorArguments[caseAttribute.ConstructorArguments.Length - 1].Value as INamedTypeSymbol;
                long? caseValue = caseAttribute.ConstructorArguments.Length == 2 ? ToLong(caseAttribute.ConstructorArguments[0].Value) : null;
                if (layoutType is null || !layoutType.GetAttributes().Any(a => IsAttribute(a, "BinaryFormatAttribute"))
                    || !IsConvertible(layoutType, memberType))
                {
                    diagnostics.Add(Diagnostic.Create(Diagnostics.InvalidCase, caseLocation, layoutType?.ToDisplayString() ?? "?", member.Name, memberTypeDisplay));
                    hadError = true;
                    continue;
                }
                var model = new CaseModel(caseValue, layoutType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat));
                if (caseValue is null ? fallback is not null : !seen.Add(caseValue.Value))
                {
                    diagnostics.Add(Diagnostic.Create(Diagnostics.DuplicateCase, caseLocation, member.Name,
                        caseValue is null ? "a second fallback" : "a second case for " + caseValue.Value.ToString(CultureInfo.InvariantCulture)));
                    hadError = true;
                    continue;
                }
                if (caseValue is null)
                    fallback = model;
                else
                    cases.Add(model);
            }
            if (fallback is not null)
                cases.Add(fallback);
            if (cases.Count == 0 && !hadError)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.InvalidCase, AttributeLocation(switchAttribute) ?? location, "(none)", member.Name, memberTypeDisplay));
                hadError = true;
            }
        }
        else if (caseAttributes.Count > 0)
        {
            kind = FieldKind.Switch;
            width = -1;
            diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, AttributeLocation(caseAttributes[0]) ?? location, "[Case] without [SwitchOn]", member.Name, memberTypeDisplay));
            hadError = true;
        }
        else if (ClassifyScalar(memberType) is { } scalar)
        {
            (kind, integerType, width, signed) = scalar;
        }
        else if (memberType is IArrayTypeSymbol { Rank: 1, ElementType.SpecialType: SpecialType.System_Byte }
                 || memberType is INamedTypeSymbol { Name: "ReadOnlyMemory", ContainingNamespace.Name: "System", TypeArguments.Length: 1 } memory && memory.TypeArguments[0].SpecialType == SpecialType.System_Byte)
        {
            kind = memberType is IArrayTypeSymbol ? FieldKind.ByteArray : FieldKind.Memory;
            width = lengthConstant > 0 ? lengthConstant : -1;
            if (!hasLength && lengthAttribute is null && padToAttribute is null)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.MissingLength, AttributeLocation(lengthAttribute ?? fieldAttribute) ?? location, member.Name));
                hadError = true;
            }
        }
        else if (memberType.SpecialType == SpecialType.System_String)
        {
            kind = FieldKind.String;
            width = lengthConstant > 0 ? lengthConstant : -1;
            if (!hasLength && nullTerminatedAttribute is null && lengthAttribute is null)
                RequireLength("[Length(nameof(Member))], [Length(n)], [Length(ToEnd = true)] or [NullTerminated]");
        }
        else if (memberType is IArrayTypeSymbol { Rank: 1 } arrayType)
        {
            kind = FieldKind.Array;
            width = -1;
            var elementType = arrayType.ElementType;
            if (ClassifyScalar(elementType) is { } elementScalar && elementScalar.Kind != FieldKind.Boolean)
            {
                element = new FieldModel("", 0, elementScalar.Width, elementScalar.Kind, elementType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                    elementScalar.IntegerType, elementScalar.Signed, bigEndian, false, null, false, null, null, EquatableArray<long>.Empty,
                    0, null, null, null, false, EquatableArray<ConditionModel>.Empty, 0, false);
            }
            else if (elementType is INamedTypeSymbol elementLayout && elementLayout.GetAttributes().Any(a => IsAttribute(a, "BinaryFormatAttribute")))
            {
                if (NestedSize(elementLayout, cancellationToken, parsing) is not { } elementSize)
                {
                    dependsOnInvalidLayout = true;
                    return null;
                }
                element = new FieldModel("", 0, elementSize, FieldKind.Nested, elementType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                    "", false, bigEndian, elementType.IsReferenceType, null, false, null, null, EquatableArray<long>.Empty,
                    0, null, null, null, false, EquatableArray<ConditionModel>.Empty, 0, false) { HasView = GeneratesView(elementLayout) };
            }
            else
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.UnsupportedMemberType, location, member.Name, memberTypeDisplay));
                return null;
            }
            if (lengthConstant > 0)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.InvalidLength, AttributeLocation(lengthAttribute ?? fieldAttribute) ?? location, member.Name));
                hadError = true;
            }
            if (countAttribute is null && untilAttribute is null && lengthAttribute is null)
                RequireLength("[Count(...)], [Until(...)], [Length(nameof(Member))] or [Length(ToEnd = true)]");
            if (untilAttribute is not null)
            {
                untilValue = ToLong(untilAttribute.ConstructorArguments[untilAttribute.ConstructorArguments.Length - 1].Value);
                if (untilAttribute.ConstructorArguments.Length == 2)
                {
                    untilMember = untilAttribute.ConstructorArguments[0].Value as string ?? "";
                    var target = element.Kind == FieldKind.Nested
                        ? elementType.GetMembers(untilMember).FirstOrDefault(m => m.GetAttributes().Any(a => IsAttribute(a, "FieldAttribute")))
                        : null;
                    var targetType = (target as IFieldSymbol)?.Type ?? (target as IPropertySymbol)?.Type;
                    if (targetType is null || ClassifyScalar(targetType) is not { Kind: FieldKind.Integer or FieldKind.Enum })
                    {
                        diagnostics.Add(Diagnostic.Create(Diagnostics.UnknownMember, AttributeLocation(untilAttribute) ?? location, "[Until]", member.Name, untilMember, elementType.Name));
                        hadError = true;
                    }
                }
                else if (element.Kind == FieldKind.Nested)
                {
                    diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, AttributeLocation(untilAttribute) ?? location, "[Until(value)] without a member name", member.Name, memberTypeDisplay));
                    hadError = true;
                }
            }
            var stride = strideConstant;
            if (strideAttribute is not null && element.Width < 0)
            {
                if (strideMember is null && stride <= 0)
                {
                    diagnostics.Add(Diagnostic.Create(Diagnostics.StrideTooSmall, AttributeLocation(strideAttribute) ?? location, stride, member.Name, "1"));
                    hadError = true;
                }
            }
            else if (strideAttribute is not null && strideMember is null && stride < element.Width)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.StrideTooSmall, AttributeLocation(strideAttribute) ?? location, stride, member.Name, element.Width));
                hadError = true;
            }
            if (strideAttribute is not null && countAttribute is null)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, AttributeLocation(strideAttribute) ?? location, "[Stride] without [Count]", member.Name, memberTypeDisplay));
                hadError = true;
            }
            // A constant count of fixed-size elements has a fixed width.
            if (countAttribute is not null && countMember is null && element.Width >= 0 && strideMember is null)
                width = countConstant * (stride > 0 ? stride : element.Width);
        }
        else if (memberType is INamedTypeSymbol named && InlineArrayLength(named) is { } inlineLength && member is IFieldSymbol)
        {
            kind = FieldKind.InlineArray;
            width = inlineLength;
        }
        else if (memberType is INamedTypeSymbol nested && nested.GetAttributes().Any(a => IsAttribute(a, "BinaryFormatAttribute")))
        {
            if (NestedSize(nested, cancellationToken, parsing) is not { } nestedSize)
            {
                dependsOnInvalidLayout = true;
                return null;
            }
            kind = FieldKind.Nested;
            // Given a length by its container, a nested layout takes exactly that many bytes, whatever its own size. Given
            // arguments, it is read through ReadInto, which takes them.
            width = lengthMember is not null || argsAttribute is not null ? -1 : nestedSize;
            argTypes.AddRange(nested.GetMembers().Where(m => FindAttribute(m, "ArgumentAttribute") is not null)
                .Select(m => MemberType(m)?.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) ?? "?"));
        }
        else
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.UnsupportedMemberType, location, member.Name, memberTypeDisplay));
            return null;
        }

        // Length, count, stride and repetition belong to blocks, strings and arrays only.
        foreach (var (specName, specAttribute) in new[] { ("[Length]", lengthAttribute), ("[Count]", countAttribute), ("[Stride]", strideAttribute), ("[Until]", untilAttribute) })
        {
            if (specAttribute is null)
                continue;
            var applies = specName switch
            {
                "[Length]" => kind is FieldKind.ByteArray or FieldKind.Memory or FieldKind.String or FieldKind.Array
                    || (kind is FieldKind.Nested or FieldKind.Switch && lengthMember is not null),
                _ => kind == FieldKind.Array,
            };
            if (!applies)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, AttributeLocation(specAttribute) ?? location, specName, member.Name, memberTypeDisplay));
                hadError = true;
            }
        }
        if (checksumAttribute is not null && !(kind == FieldKind.Integer && integerType == "uint"))
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, AttributeLocation(checksumAttribute) ?? location, "[Checksum]", member.Name, memberTypeDisplay));
            hadError = true;
        }
        if (argsAttribute is not null && kind != FieldKind.Nested)
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, AttributeLocation(argsAttribute) ?? location, "[Args]", member.Name, memberTypeDisplay));
            hadError = true;
        }
        if (padToAttribute is not null && kind is not (FieldKind.ByteArray or FieldKind.Memory))
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, AttributeLocation(padToAttribute) ?? location, "[PadTo]", member.Name, memberTypeDisplay));
            hadError = true;
        }
        if (nullTerminatedAttribute is not null && kind != FieldKind.String || encodingAttribute is not null && kind != FieldKind.String)
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, AttributeLocation(nullTerminatedAttribute ?? encodingAttribute!) ?? location,
                nullTerminatedAttribute is not null ? "[NullTerminated]" : "[Encoding]", member.Name, memberTypeDisplay));
            hadError = true;
        }

        ulong? magic = null;
        var reserved = false;
        long? rangeMin = null, rangeMax = null;
        var oneOf = new List<long>();
        long alignConstant = 0;
        string? alignMember = null, alignContextKey = null;
        ulong? flagsKnown = null;
        var rejectUnknown = false;
        var conditions = new List<ConditionModel>();
        long otherwise = 0;

        foreach (var attribute in member.GetAttributes())
        {
            var attributeLocation = AttributeLocation(attribute) ?? location;
            var name = attribute.AttributeClass?.Name;
            if (!IsAttribute(attribute, name ?? ""))
                continue;
            bool RequireScalar(string rule, bool allowBlocks = false)
            {
                if (kind is FieldKind.Integer or FieldKind.Enum || (allowBlocks && kind is FieldKind.ByteArray or FieldKind.InlineArray))
                    return true;
                diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, attributeLocation, rule, member.Name, memberTypeDisplay));
                hadError = true;
                return false;
            }
            bool Fits(string rule, object? value)
            {
                if (kind is FieldKind.Integer or FieldKind.Enum && !FitsInteger(value, width, signed))
                {
                    diagnostics.Add(Diagnostic.Create(Diagnostics.ValueDoesNotFit, attributeLocation, rule, FormatValue(value), member.Name, memberTypeDisplay));
                    hadError = true;
                    return false;
                }
                return true;
            }

            switch (name)
            {
                case "MagicAttribute" when RequireScalar("[Magic]"):
                    var magicValue = attribute.ConstructorArguments[0].Value;
                    if (Fits("[Magic]", magicValue))
                        magic = unchecked((ulong)ToLong(magicValue));
                    break;
                case "ReservedAttribute" when RequireScalar("[Reserved]", allowBlocks: true):
                    reserved = true;
                    break;
                case "RangeAttribute" when RequireScalar("[Range]"):
                    var min = attribute.ConstructorArguments[0].Value;
                    var max = attribute.ConstructorArguments[1].Value;
                    if (Fits("[Range] minimum", min) & Fits("[Range] maximum", max))
                    {
                        rangeMin = ToLong(min);
                        rangeMax = ToLong(max);
                        if (rangeMin > rangeMax)
                        {
                            diagnostics.Add(Diagnostic.Create(Diagnostics.ValueDoesNotFit, attributeLocation, "[Range] minimum", rangeMin, member.Name, memberTypeDisplay));
                            hadError = true;
                        }
                    }
                    break;
                case "OneOfAttribute" when RequireScalar("[OneOf]"):
                    foreach (var value in attribute.ConstructorArguments.SelectMany(a => a.Kind == TypedConstantKind.Array ? a.Values : ImmutableArray.Create(a)))
                    {
                        if (Fits("[OneOf]", value.Value))
                            oneOf.Add(ToLong(value.Value));
                    }
                    break;
                case "AlignedToAttribute" when RequireScalar("[AlignedTo]"):
                    alignContextKey = NamedString(attribute, "ContextKey");
                    if (attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string memberName)
                    {
                        alignMember = memberName;
                    }
                    else if (attribute.ConstructorArguments.Length == 1)
                    {
                        alignConstant = ToLong(attribute.ConstructorArguments[0].Value);
                        if (alignConstant <= 0 || !FitsInteger(alignConstant, width, signed))
                        {
                            diagnostics.Add(Diagnostic.Create(Diagnostics.ValueDoesNotFit, attributeLocation, "[AlignedTo]", alignConstant, member.Name, memberTypeDisplay));
                            hadError = true;
                        }
                    }
                    else if (string.IsNullOrEmpty(alignContextKey))
                    {
                        diagnostics.Add(Diagnostic.Create(Diagnostics.ValueDoesNotFit, attributeLocation, "[AlignedTo] ContextKey", "(empty)", member.Name, memberTypeDisplay));
                        hadError = true;
                    }
                    break;
                case "FlagsFieldAttribute" when RequireScalar("[FlagsField]"):
                    var known = attribute.ConstructorArguments[0].Value;
                    if (Fits("[FlagsField]", known))
                        flagsKnown = unchecked((ulong)ToLong(known));
                    rejectUnknown = NamedLong(attribute, "RejectUnknown") == 1;
                    break;
                case "PresentWhenAttribute":
                    var otherwiseValue = NamedLong(attribute, "Otherwise");
                    if (otherwiseValue is { } other && other != 0)
                    {
                        if (!(kind is FieldKind.Integer or FieldKind.Enum or FieldKind.Boolean))
                        {
                            diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, attributeLocation, "[PresentWhen(Otherwise = ...)]", member.Name, memberTypeDisplay));
                            hadError = true;
                        }
                        else if (Fits("[PresentWhen] Otherwise", other))
                        {
                            otherwise = other;
                        }
                    }
                    // The referenced member is resolved once all fields are known.
                    conditions.Add(new ConditionModel(
                        (string?)attribute.ConstructorArguments[0].Value ?? "", "", false, false,
                        (int)ToLong(attribute.ConstructorArguments[1].Value), ToLong(attribute.ConstructorArguments[2].Value)));
                    break;
            }
        }

        if (hadError)
            return null;

        return new FieldModel(member.Name, offset, width, kind, typeName, integerType, signed, bigEndian,
            memberType.IsReferenceType, magic, reserved, rangeMin, rangeMax, oneOf.ToEquatableArray(),
            alignConstant, alignMember, alignContextKey, flagsKnown, rejectUnknown, conditions.ToEquatableArray(), otherwise,
            member is IFieldSymbol { IsRequired: true } or IPropertySymbol { IsRequired: true })
        {
            LengthMember = lengthMember,
            LengthConstant = lengthConstant,
            LengthToEnd = lengthToEnd,
            CountMember = countMember,
            CountConstant = countConstant,
            StrideMember = strideMember,
            StrideConstant = strideConstant,
            UntilMember = untilMember,
            UntilValue = untilValue,
            NullTerminated = nullTerminatedAttribute is not null,
            PadTo = padTo,
            SwitchMember = switchAttribute?.ConstructorArguments[0].Value as string,
            Checksum = checksumAttribute is null ? null : (int)ToLong(checksumAttribute.ConstructorArguments[0].Value),
            ChecksumFrom = checksumAttribute is null ? null : NamedString(checksumAttribute, "From"),
            ChecksumTo = checksumAttribute is null ? null : NamedString(checksumAttribute, "To"),
            Cases = cases.ToEquatableArray(),
            Encoding = encoding,
            Element = element,
            Args = args.ToEquatableArray(),
            ArgTypes = argTypes.ToEquatableArray(),
            HasView = kind == FieldKind.Nested && memberType is INamedTypeSymbol nestedLayout && GeneratesView(nestedLayout),
        };
    }

    /// <summary>Integers, booleans and enums: their kind, integer type, width and signedness.</summary>
    private static (FieldKind Kind, string IntegerType, int Width, bool Signed)? ClassifyScalar(ITypeSymbol type)
    {
        if (IntegerInfo(type.SpecialType) is { } integer)
            return (FieldKind.Integer, integer.Type, integer.Width, integer.Signed);
        if (type.SpecialType == SpecialType.System_Boolean)
            return (FieldKind.Boolean, "byte", 1, false);
        if (type is INamedTypeSymbol { TypeKind: TypeKind.Enum, EnumUnderlyingType: { } underlying } && IntegerInfo(underlying.SpecialType) is { } enumInteger)
            return (FieldKind.Enum, enumInteger.Type, enumInteger.Width, enumInteger.Signed);
        return null;
    }

    private static bool IsConvertible(ITypeSymbol from, ITypeSymbol to)
    {
        if (to.SpecialType == SpecialType.System_Object || from.AllInterfaces.Contains(to, SymbolEqualityComparer.Default))
            return true;
        for (var type = from; type is not null; type = type.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(type, to))
                return true;
        }
        return false;
    }

    /// <summary>Reads a <c>[Bits]</c> property: its type, bit range and rules; the container is resolved once all fields are known.</summary>
    private static (BitsModel, ISymbol, AttributeData)? ParseBits(ISymbol member, AttributeData attribute, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var location = member.Locations.FirstOrDefault();
        var container = attribute.ConstructorArguments[0].Value as string ?? "";
        var firstBit = (int)ToLong(attribute.ConstructorArguments[1].Value);
        var count = (int)ToLong(attribute.ConstructorArguments[2].Value);
        var hadError = false;
        // The generator implements the property, so it must be a partial declaration with both accessors. (The analyzer
        // sees the generated implementation, so its presence says nothing.)
        if (member is not IPropertySymbol { IsStatic: false, IsPartialDefinition: true, GetMethod: not null, SetMethod.IsInitOnly: false } property)
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.BitsNotPartialProperty, location, member.Name, container, MemberType(member)?.ToDisplayString() ?? "byte"));
            return null;
        }
        var typeDisplay = property.Type.ToDisplayString();
        var scalar = ClassifyScalar(property.Type);
        // A signed type gives up its sign bit: the bits are read as an unsigned number.
        var capacity = scalar is null ? 0 : scalar.Value.Kind == FieldKind.Boolean ? 1 : scalar.Value.Width * 8 - (scalar.Value.Signed ? 1 : 0);
        if (scalar is null || count > capacity)
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.BitsTypeTooNarrow, location, member.Name, typeDisplay, count));
            hadError = true;
        }
        var mask = count is <= 0 or > 64 ? 0 : count == 64 ? ulong.MaxValue : (1UL << count) - 1;
        long? rangeMin = null, rangeMax = null;
        var oneOf = new List<long>();
        var reserved = false;
        bool Fits(AttributeData ruleAttribute, string rule, object? value)
        {
            var number = ToLong(value);
            if (value is ulong unsignedValue ? unsignedValue <= mask : number >= 0 && (ulong)number <= mask)
                return true;
            diagnostics.Add(Diagnostic.Create(Diagnostics.ValueDoesNotFit, AttributeLocation(ruleAttribute) ?? location, rule, FormatValue(value), member.Name,
                typeDisplay + " of " + count.ToString(CultureInfo.InvariantCulture) + " bits"));
            hadError = true;
            return false;
        }
        foreach (var rule in member.GetAttributes())
        {
            var name = rule.AttributeClass?.Name ?? "";
            if (!IsAttribute(rule, name) || name == "BitsAttribute")
                continue;
            var ruleLocation = AttributeLocation(rule) ?? location;
            if (name == "RangeAttribute")
            {
                if (Fits(rule, "[Range] minimum", rule.ConstructorArguments[0].Value) & Fits(rule, "[Range] maximum", rule.ConstructorArguments[1].Value))
                {
                    rangeMin = ToLong(rule.ConstructorArguments[0].Value);
                    rangeMax = ToLong(rule.ConstructorArguments[1].Value);
                }
            }
            else if (name == "ReservedAttribute")
            {
                reserved = true;
            }
            else if (name == "OneOfAttribute")
            {
                foreach (var value in rule.ConstructorArguments.SelectMany(a => a.Kind == TypedConstantKind.Array ? a.Values : ImmutableArray.Create(a)))
                {
                    if (Fits(rule, "[OneOf]", value.Value))
                        oneOf.Add(ToLong(value.Value));
                }
            }
            else
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, ruleLocation, "[" + name.Substring(0, name.Length - "Attribute".Length) + "] on a [Bits] property", member.Name, typeDisplay));
                hadError = true;
            }
        }
        if (hadError || scalar is not { } kind)
            return null;
        var rules = new FieldModel(member.Name, 0, kind.Width, kind.Kind, property.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            kind.IntegerType, kind.Signed, false, false, null, reserved, rangeMin, rangeMax, oneOf.ToEquatableArray(), 0, null, null, null, false,
            EquatableArray<ConditionModel>.Empty, 0, false);
        return (new BitsModel(Modifiers(property), container, "", firstBit, count, rules), member, attribute);
    }

    /// <summary>Checks that each [Bits] property names an integer field and bits inside it that no other property takes.</summary>
    private static void ResolveBits(INamedTypeSymbol type, List<(FieldModel Model, ISymbol Member, AttributeData FieldAttribute)> fields,
        List<(BitsModel Model, ISymbol Member, AttributeData Attribute)> bits, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var taken = new Dictionary<string, List<BitsModel>>(StringComparer.Ordinal);
        for (var i = 0; i < bits.Count; i++)
        {
            var (model, member, attribute) = bits[i];
            var location = AttributeLocation(attribute) ?? member.Locations.FirstOrDefault();
            var container = fields.FirstOrDefault(f => f.Model.Name == model.Container).Model;
            if (container is null)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.UnknownMember, location, "[Bits]", model.Name, model.Container, type.Name));
                continue;
            }
            if (container.Kind != FieldKind.Integer)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, location, "[Bits] naming '" + container.Name + "'", model.Name, container.TypeName));
                continue;
            }
            var width = container.Width * 8;
            if (model.FirstBit < 0 || model.Count < 1 || model.FirstBit + model.Count > width)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.BitsOutsideMember, location, model.Name, model.FirstBit, model.FirstBit + model.Count - 1, container.Name, width, width - 1));
                continue;
            }
            if (!taken.TryGetValue(container.Name, out var others))
                taken[container.Name] = others = [];
            if (others.FirstOrDefault(o => o.FirstBit < model.FirstBit + model.Count && model.FirstBit < o.FirstBit + o.Count) is { } overlapped)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.BitsOverlap, location, model.Name, model.FirstBit, model.FirstBit + model.Count - 1,
                    overlapped.Name, overlapped.FirstBit, overlapped.FirstBit + overlapped.Count - 1, container.Name));
                continue;
            }
            others.Add(model);
            bits[i] = (model with { ContainerIntegerType = container.IntegerType }, member, attribute);
        }
    }

    /// <summary>An argument seen as a field, so that rules resolve it like one.</summary>
    private static FieldModel ArgumentField(INamedTypeSymbol type, ArgumentModel argument)
    {
        var member = type.GetMembers(argument.Name).First();
        var (kind, integerType, width, signed) = ClassifyScalar(MemberType(member)!)!.Value;
        return new FieldModel(argument.Name, 0, width, kind, argument.TypeName, integerType, signed, false, false, null, false, null, null,
            EquatableArray<long>.Empty, 0, null, null, null, false, EquatableArray<ConditionModel>.Empty, 0, false);
    }

    /// <summary>
    /// Applies <c>[ByteOrderFrom]</c>: the multi-byte members declared after the deciding field (all, for an argument) without
    /// a byte order of their own get the run-time test, and the deciding field accepts only its two values.
    /// </summary>
    private static void ApplyRunTimeByteOrder(INamedTypeSymbol type, List<(FieldModel Model, ISymbol Member, AttributeData FieldAttribute)> fields,
        List<ArgumentModel> arguments, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var attribute = type.GetAttributes().FirstOrDefault(a => IsAttribute(a, "ByteOrderFromAttribute"));
        if (attribute is null)
            return;
        var location = AttributeLocation(attribute) ?? type.Locations.FirstOrDefault();
        var name = attribute.ConstructorArguments[0].Value as string ?? "";
        long little = NamedLong(attribute, "Little") ?? 0, big = NamedLong(attribute, "Big") ?? 0;
        string test;
        var first = 0;
        if (arguments.FirstOrDefault(a => a.Name == name) is { } argument)
        {
            if (argument.TypeName != "global::BinaryFormat.ByteOrder")
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.InvalidByteOrderMember, location, type.Name, name));
                return;
            }
            test = "{0}." + name + " == global::BinaryFormat.ByteOrder.BigEndian";
        }
        else
        {
            var index = fields.FindIndex(f => f.Model.Name == name);
            if (index < 0)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.UnknownMember, location, "[ByteOrderFrom]", type.Name, name, type.Name));
                return;
            }
            var decider = fields[index].Model;
            if (decider.Kind is not (FieldKind.Integer or FieldKind.Enum) || little == big || decider.Conditions.Count > 0)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.InvalidByteOrderMember, location, type.Name, name));
                return;
            }
            test = "unchecked((long){0}." + name + ") == " + big.ToString(CultureInfo.InvariantCulture) + "L";
            if (decider.OneOf.Count == 0)
                fields[index] = (decider with { OneOf = new[] { little, big }.ToEquatableArray() }, fields[index].Member, fields[index].FieldAttribute);
            first = index + 1;
        }
        for (var i = first; i < fields.Count; i++)
        {
            var (field, member, fieldAttribute) = fields[i];
            if (NamedLong(fieldAttribute, "ByteOrder") is not null)
                continue;
            if (field.Kind is FieldKind.Integer or FieldKind.Enum && field.Width > 1)
                fields[i] = (field with { BigEndianWhen = test }, member, fieldAttribute);
            else if (field.Element is { Kind: FieldKind.Integer or FieldKind.Enum, Width: > 1 } element)
                fields[i] = (field with { Element = element with { BigEndianWhen = test } }, member, fieldAttribute);
        }
    }

    /// <summary>
    /// Whether the user wrote the member. The analyzer sees the generated members too (EncodedSize, XUnknownBits); taking them
    /// for the user's would report a collision with itself, hidden in generated code, and silently drop the layout's model.
    /// </summary>
    private static bool IsDeclaredByUser(ISymbol member) =>
        !member.IsImplicitlyDeclared && member.DeclaringSyntaxReferences.Any(r => !r.SyntaxTree.FilePath.EndsWith(".g.cs", StringComparison.Ordinal));

    private static ITypeSymbol? MemberType(ISymbol member) => (member as IFieldSymbol)?.Type ?? (member as IPropertySymbol)?.Type;

    /// <summary>The accessibility (and static) modifiers a partial member's implementation must repeat.</summary>
    private static string Modifiers(ISymbol member) => member.DeclaredAccessibility switch
    {
        Accessibility.Public => "public",
        Accessibility.Internal => "internal",
        Accessibility.Protected => "protected",
        Accessibility.ProtectedOrInternal => "protected internal",
        Accessibility.ProtectedAndInternal => "private protected",
        _ => "private",
    } + (member.IsStatic ? " static" : "");

    private static AttributeData? FindAttribute(ISymbol member, string name) =>
        member.GetAttributes().FirstOrDefault(a => IsAttribute(a, name));

    /// <summary>
    /// Gives members without an offset the end of the member declared before them, and marks those after the first
    /// variable-length member as placed at run time (offset -1). Returns that first variable-length member, if any.
    /// </summary>
    private static FieldModel? LayOut(List<(FieldModel Model, ISymbol Member, AttributeData FieldAttribute)> fields, HashSet<string> arguments,
        ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        FieldModel? firstDynamic = null;
        var firstDynamicIndex = fields.Count;
        FieldModel? toEnd = null;
        var cursor = 0;
        for (var i = 0; i < fields.Count; i++)
        {
            var (field, member, attribute) = fields[i];
            if (toEnd is not null)
                diagnostics.Add(Diagnostic.Create(Diagnostics.MemberAfterToEnd, member.Locations.FirstOrDefault(), toEnd.Name, field.Name));
            if (field.Offset >= 0 && firstDynamic is not null)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.OffsetAfterVariableMember, AttributeLocation(attribute) ?? member.Locations.FirstOrDefault(), field.Name, firstDynamic.Name));
                continue;
            }
            // A sequential member whose presence the caller or container decides (a condition on an argument) takes
            // no bytes when absent, so it starts the part placed at run time.
            var presenceFromArgument = field.Offset < 0 && field.Conditions.Any(c => arguments.Contains(c.Member));
            if (presenceFromArgument && firstDynamic is null)
            {
                // Recorded with the offset where the run-time part starts, for the checks below.
                firstDynamic = field with { Offset = cursor };
                firstDynamicIndex = i;
            }
            if (field.Offset < 0 && firstDynamic is null)
                field = field with { Offset = cursor };
            // Padding at a fixed offset has a fixed width; after a variable-length member it is computed at run time.
            if (field.PadTo > 0 && firstDynamic is null)
                field = field with { Width = (field.PadTo - field.Offset % field.PadTo) % field.PadTo };
            if (firstDynamic is null)
                cursor = field.Offset + Math.Max(field.Width, 0);
            if (field.IsDynamic && firstDynamic is null)
            {
                firstDynamic = field;
                firstDynamicIndex = i;
            }
            if (field.LengthToEnd)
                toEnd = field;
            fields[i] = (field, member, attribute);
        }
        // A fixed member declared earlier must not sit at or beyond the start of the variable part.
        if (firstDynamic is not null)
        {
            foreach (var (field, member, attribute) in fields.Take(firstDynamicIndex))
            {
                if (field.Offset + Math.Max(field.Width, 1) > firstDynamic.Offset)
                    diagnostics.Add(Diagnostic.Create(Diagnostics.OffsetAfterVariableMember, AttributeLocation(attribute) ?? member.Locations.FirstOrDefault(), field.Name, firstDynamic.Name));
            }
        }
        return firstDynamic;
    }

    /// <summary>
    /// Checks that conditions, alignments, lengths, counts and strides name earlier fields of the right kind, fills in what
    /// the emitter needs to know about them, and marks length and count members with what they measure.
    /// </summary>
    private static void ResolveReferences(INamedTypeSymbol type, List<(FieldModel Model, ISymbol Member, AttributeData FieldAttribute)> fields,
        List<ArgumentModel> arguments, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        // Arguments are known before any field is read, so rules may name them like the earliest fields.
        var argumentFields = arguments.ToDictionary(a => a.Name, a => ArgumentField(type, a), StringComparer.Ordinal);
        var order = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < fields.Count; i++)
            order[fields[i].Model.Name] = i;
        for (var i = 0; i < fields.Count; i++)
        {
            var (field, member, _) = fields[i];
            FieldModel? Resolve(string rule, string name, bool integerOnly = false)
            {
                var attributeName = rule.Trim('[', ']') + "Attribute";
                var location = member.GetAttributes().FirstOrDefault(a => a.AttributeClass?.Name == attributeName
                        && a.ConstructorArguments.Length > 0 && (a.ConstructorArguments[0].Kind == TypedConstantKind.Array
                            ? a.ConstructorArguments[0].Values.Any(v => v.Value as string == name)
                            : a.ConstructorArguments[0].Value as string == name)) is { } attribute
                    ? AttributeLocation(attribute) ?? member.Locations.FirstOrDefault()
                    : member.Locations.FirstOrDefault();
                if (argumentFields.TryGetValue(name, out var argument))
                {
                    if (integerOnly ? argument.Kind == FieldKind.Integer : argument.IsScalar)
                        return argument;
                    diagnostics.Add(Diagnostic.Create(integerOnly ? Diagnostics.LengthMemberNotInteger : Diagnostics.RuleNotApplicable, location,
                        rule + " naming '" + name + "'", field.Name, argument.TypeName));
                    return null;
                }
                if (!order.TryGetValue(name, out var targetIndex))
                {
                    diagnostics.Add(Diagnostic.Create(Diagnostics.UnknownMember, location, rule, field.Name, name, type.Name));
                    return null;
                }
                var target = fields[targetIndex].Model;
                if (targetIndex >= i)
                {
                    diagnostics.Add(Diagnostic.Create(Diagnostics.MemberComesLater, location, rule, field.Name, name, OffsetText(target), OffsetText(field)));
                    return null;
                }
                if (integerOnly ? target.Kind != FieldKind.Integer : !target.IsScalar)
                {
                    diagnostics.Add(Diagnostic.Create(integerOnly ? Diagnostics.LengthMemberNotInteger : Diagnostics.RuleNotApplicable, location,
                        rule + " naming '" + name + "'", field.Name, target.TypeName));
                    return null;
                }
                return target;
            }
            void Measure(string rule, string name, MeasureKind kind, bool allowEnum = false)
            {
                // An argument is given, not written, so nothing fills it in.
                if (Resolve(rule, name, integerOnly: !allowEnum) is not { } target || argumentFields.ContainsKey(name))
                    return;
                var targetIndex = order[name];
                if (fields[targetIndex].Model.Measures is { } other)
                {
                    diagnostics.Add(Diagnostic.Create(Diagnostics.MeasuredTwice, member.Locations.FirstOrDefault(), name, other, field.Name));
                    return;
                }
                fields[targetIndex] = (target with { Measures = field.Name, MeasureKind = kind }, fields[targetIndex].Member, fields[targetIndex].FieldAttribute);
            }

            if (field.AlignMember is { } alignMember)
                Resolve("[AlignedTo]", alignMember);
            if (field.Args.Count > 0)
            {
                var passed = field.Args.Select(name => Resolve("[Args]", name)).ToList();
                var argsLocation = AttributeLocation(member.GetAttributes().First(a => a.AttributeClass?.Name == "ArgsAttribute")) ?? member.Locations.FirstOrDefault();
                if (field.Args.Count != field.ArgTypes.Count)
                {
                    diagnostics.Add(Diagnostic.Create(Diagnostics.ArgsMismatch, argsLocation, field.Name,
                        field.Args.Count.ToString(CultureInfo.InvariantCulture) + " value(s)", field.TypeName, field.ArgTypes.Count, ""));
                }
                else
                {
                    for (var a = 0; a < passed.Count; a++)
                    {
                        // Integers and enums convert with a cast; a bool only from a bool.
                        if (passed[a] is { } source && (source.Kind == FieldKind.Boolean) != (field.ArgTypes[a] == "bool"))
                            diagnostics.Add(Diagnostic.Create(Diagnostics.ArgsMismatch, argsLocation, field.Name, "'" + field.Args[a] + "' of type " + source.TypeName,
                                field.TypeName, field.ArgTypes.Count, "; argument " + (a + 1).ToString(CultureInfo.InvariantCulture) + " is of type " + field.ArgTypes[a]));
                    }
                }
            }
            if (field.LengthMember is { } lengthMember)
                Measure("[Length]", lengthMember, MeasureKind.Bytes);
            if (field.CountMember is { } countMember)
                Measure("[Count]", countMember, MeasureKind.Count);
            if (field.StrideMember is { } strideMember)
                Resolve("[Stride]", strideMember, integerOnly: true);
            if (field.SwitchMember is { } switchMember && Resolve("[SwitchOn]", switchMember) is { } tag)
            {
                if (tag.Kind == FieldKind.Boolean)
                    diagnostics.Add(Diagnostic.Create(Diagnostics.LengthMemberNotInteger, member.Locations.FirstOrDefault(), "[SwitchOn] naming '" + switchMember + "'", field.Name, tag.TypeName));
                else
                    Measure("[SwitchOn]", switchMember, MeasureKind.Tag, allowEnum: true);
            }
            if (field.Checksum is not null)
            {
                // The range is given by member names; an unknown name is a range outside the record.
                var checksumLocation = AttributeLocation(member.GetAttributes().First(a => a.AttributeClass?.Name == "ChecksumAttribute")) ?? member.Locations.FirstOrDefault();
                var from = field.ChecksumFrom ?? fields[0].Model.Name;
                var to = field.ChecksumTo ?? (i > 0 ? fields[i - 1].Model.Name : field.Name);
                foreach (var bound in new[] { from, to })
                {
                    if (!order.ContainsKey(bound))
                        diagnostics.Add(Diagnostic.Create(Diagnostics.UnknownMember, checksumLocation, "[Checksum]", field.Name, bound, type.Name));
                }
                if (order.TryGetValue(from, out var fromIndex) && order.TryGetValue(to, out var toIndex) && fromIndex > toIndex)
                    diagnostics.Add(Diagnostic.Create(Diagnostics.ChecksumRangeReversed, checksumLocation, field.Name, from, to));
                fields[i] = (fields[i].Model with { ChecksumFrom = from, ChecksumTo = to }, member, fields[i].FieldAttribute);
            }
            if (field.Conditions.Count > 0)
            {
                var resolved = new List<ConditionModel>();
                foreach (var condition in field.Conditions)
                {
                    if (Resolve("[PresentWhen]", condition.Member) is { } target)
                        resolved.Add(condition with { MemberIntegerType = target.IntegerType, MemberIsSigned = target.IsSigned, MemberIsBoolean = target.Kind == FieldKind.Boolean });
                }
                fields[i] = (fields[i].Model with { Conditions = resolved.ToEquatableArray() }, member, fields[i].FieldAttribute);
            }
        }
    }

    private static string OffsetText(FieldModel field) =>
        field.FollowsDynamic ? "(after a variable-length member)" : field.Offset.ToString(CultureInfo.InvariantCulture);

    private static void CheckOverlaps(List<(FieldModel Model, ISymbol Member, AttributeData FieldAttribute)> fields, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        // Compare each field with the earlier field that reaches furthest, not just with its neighbour.
        var ordered = fields.Where(f => !f.Model.FollowsDynamic && f.Model.Width >= 0).OrderBy(f => f.Model.Offset).ToList();
        FieldModel? furthest = null;
        foreach (var (current, member, attribute) in ordered)
        {
            if (furthest is not null && current.Offset < furthest.Offset + furthest.Width)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.OverlappingFields, AttributeLocation(attribute) ?? member.Locations.FirstOrDefault(),
                    current.Name, current.Offset, current.Offset + current.Width - 1,
                    furthest.Name, furthest.Offset, furthest.Offset + furthest.Width - 1));
            }
            if (furthest is null || current.Offset + current.Width > furthest.Offset + furthest.Width)
                furthest = current;
        }
    }

    /// <summary>The size of a nested layout: its Size constant when it comes from metadata, else parsed from source.</summary>
    /// <remarks>-1 stands for a layout whose size varies.</remarks>
    private static int? NestedSize(INamedTypeSymbol nested, CancellationToken cancellationToken, ImmutableStack<INamedTypeSymbol> parsing)
    {
        if (nested.DeclaringSyntaxReferences.IsEmpty)
        {
            var sizeConstant = nested.GetMembers("Size").Concat(nested.GetMembers("EncodedSize")).OfType<IFieldSymbol>()
                .FirstOrDefault(f => f.IsConst && f.ConstantValue is int);
            return sizeConstant is not null ? (int)sizeConstant.ConstantValue! : -1;
        }
        // A layout that contains itself (a tree of records) cannot have a fixed size.
        if (parsing.Contains(nested, SymbolEqualityComparer.Default))
            return -1;
        if (parsing.Count() >= MaxNestingDepth)
            return null;
        var model = Parse(nested, cancellationToken, parsing).Model;
        return model is null ? null : model.IsVariable ? -1 : model.Size;
    }

    private static (string Type, int Width, bool Signed)? IntegerInfo(SpecialType type) => type switch
    {
        SpecialType.System_Byte => ("byte", 1, false),
        SpecialType.System_SByte => ("sbyte", 1, true),
        SpecialType.System_Int16 => ("short", 2, true),
        SpecialType.System_UInt16 => ("ushort", 2, false),
        SpecialType.System_Int32 => ("int", 4, true),
        SpecialType.System_UInt32 => ("uint", 4, false),
        SpecialType.System_Int64 => ("long", 8, true),
        SpecialType.System_UInt64 => ("ulong", 8, false),
        _ => null,
    };

    private static int? InlineArrayLength(INamedTypeSymbol type)
    {
        var attribute = type.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "System.Runtime.CompilerServices.InlineArrayAttribute");
        if (attribute is null || attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not int length)
            return null;
        var elementFields = type.GetMembers().OfType<IFieldSymbol>().Where(f => !f.IsStatic).ToList();
        return elementFields.Count == 1 && elementFields[0].Type.SpecialType == SpecialType.System_Byte ? length : null;
    }

    private static bool FitsInteger(object? value, int width, bool signed)
    {
        if (value is null)
            return false;
        // Attribute arguments arrive as long or ulong (the attribute constructors' parameter types).
        if (value is ulong unsignedValue)
            return signed ? unsignedValue <= (ulong)MaxSigned(width) : width == 8 || unsignedValue <= (1UL << (width * 8)) - 1;
        var number = Convert.ToInt64(value, CultureInfo.InvariantCulture);
        if (signed)
            return number >= -MaxSigned(width) - 1 && number <= MaxSigned(width);
        return number >= 0 && (width == 8 || (ulong)number <= (1UL << (width * 8)) - 1);
    }

    private static long MaxSigned(int width) => width == 8 ? long.MaxValue : (1L << (width * 8 - 1)) - 1;

    private static string FormatValue(object? value) => value is ulong u
        ? "0x" + u.ToString("X", CultureInfo.InvariantCulture)
        : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null";

    private static long ToLong(object? value) => value switch
    {
        null => 0,
        ulong u => unchecked((long)u),
        bool b => b ? 1 : 0,
        _ => Convert.ToInt64(value, CultureInfo.InvariantCulture),
    };

    private static bool IsAttribute(AttributeData attribute, string name) =>
        attribute.AttributeClass is { } attributeClass
        && attributeClass.Name == name
        && attributeClass.ContainingNamespace?.ToDisplayString() == AttributeNamespace;

    /// <summary>Whether a layout asks for a <c>View</c>: <c>[BinaryFormat(GenerateView = true)]</c>.</summary>
    private static bool GeneratesView(INamedTypeSymbol type) =>
        type.GetAttributes().FirstOrDefault(a => IsAttribute(a, "BinaryFormatAttribute")) is { } attribute
        && attribute.NamedArguments.Any(a => a.Key == "GenerateView" && a.Value.Value is true);

    private static int? NamedInt(AttributeData attribute, string name) => NamedLong(attribute, name) is { } value ? (int)value : null;

    private static long? NamedLong(AttributeData attribute, string name)
    {
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.Key == name)
                return ToLong(argument.Value.Value);
        }
        return null;
    }

    private static string? NamedString(AttributeData attribute, string name) =>
        attribute.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value as string;

    private static Location? AttributeLocation(AttributeData attribute) =>
        attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation();

    private static bool IsPartial(INamedTypeSymbol type) =>
        type.DeclaringSyntaxReferences.Any(r => r.GetSyntax() is Microsoft.CodeAnalysis.CSharp.Syntax.TypeDeclarationSyntax declaration
            && declaration.Modifiers.Any(m => m.Text == "partial"));

    private static string Keyword(INamedTypeSymbol type) => (type.IsRecord, type.IsValueType) switch
    {
        (true, true) => "record struct",
        (true, false) => "record",
        (false, true) => "struct",
        _ => type.TypeKind == TypeKind.Interface ? "interface" : "class",
    };
}
