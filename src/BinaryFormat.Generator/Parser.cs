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
        ["Size", "Read", "TryRead", "ReadUnchecked", "Write", "Validate", "ValidateInto", "OnValidate"];

    public static (TypeModel? Model, ImmutableArray<Diagnostic> Diagnostics) Parse(INamedTypeSymbol type, CancellationToken cancellationToken) =>
        Parse(type, cancellationToken, depth: 0);

    private static (TypeModel? Model, ImmutableArray<Diagnostic> Diagnostics) Parse(INamedTypeSymbol type, CancellationToken cancellationToken, int depth)
    {
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
        // A nested layout with errors of its own: nothing is generated here either, but the errors are reported there only.
        var dependsOnInvalidLayout = false;
        foreach (var member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (member is IFieldSymbol or IPropertySymbol && !member.IsImplicitlyDeclared && GeneratedMemberNames.Contains(member.Name))
                diagnostics.Add(Diagnostic.Create(Diagnostics.NameCollision, member.Locations.FirstOrDefault(), member.Name,
                    member.Name == "Size" ? "the size constant" : "a generated method"));
            var fieldAttribute = member.GetAttributes().FirstOrDefault(a => IsAttribute(a, "FieldAttribute"));
            if (fieldAttribute is null)
            {
                if (member is IFieldSymbol { IsRequired: true } or IPropertySymbol { IsRequired: true })
                    diagnostics.Add(Diagnostic.Create(Diagnostics.RequiredNonField, member.Locations.FirstOrDefault(), member.Name));
                continue;
            }
            var field = ParseMember(member, fieldAttribute, defaultBigEndian, diagnostics, cancellationToken, depth, ref dependsOnInvalidLayout);
            if (field is not null)
                fields.Add((field, member, fieldAttribute));
        }

        foreach (var (field, member, _) in fields)
        {
            if (field.FlagsKnown is not null && type.GetMembers(field.Name + "UnknownBits").Any())
                diagnostics.Add(Diagnostic.Create(Diagnostics.NameCollision, type.GetMembers(field.Name + "UnknownBits")[0].Locations.FirstOrDefault(),
                    field.Name + "UnknownBits", "the unknown-bits property of [FlagsField] " + field.Name));
        }
        ResolveReferences(type, fields, diagnostics);
        CheckOverlaps(fields, diagnostics);

        var end = fields.Count == 0 ? 0 : fields.Max(f => f.Model.Offset + f.Model.Width);
        if (declaredSize != 0 && declaredSize < end)
            diagnostics.Add(Diagnostic.Create(Diagnostics.SizeTooSmall, AttributeLocation(formatAttribute) ?? typeLocation, declaredSize, type.Name, end));
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
            fields.Select(f => f.Model).OrderBy(f => f.Offset).ToEquatableArray());
        return (model, diagnostics.ToImmutable());
    }

    private static FieldModel? ParseMember(ISymbol member, AttributeData fieldAttribute, bool defaultBigEndian,
        ImmutableArray<Diagnostic>.Builder diagnostics, CancellationToken cancellationToken, int depth, ref bool dependsOnInvalidLayout)
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

        var offset = fieldAttribute.ConstructorArguments.Length > 0 ? (int)ToLong(fieldAttribute.ConstructorArguments[0].Value) : 0;
        var hadError = false;
        if (offset < 0)
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

        FieldKind kind;
        int width;
        var integerType = "";
        var signed = false;
        if (IntegerInfo(memberType.SpecialType) is { } integer)
        {
            kind = FieldKind.Integer;
            (integerType, width, signed) = integer;
        }
        else if (memberType.SpecialType == SpecialType.System_Boolean)
        {
            kind = FieldKind.Boolean;
            width = 1;
            integerType = "byte";
        }
        else if (memberType is INamedTypeSymbol { TypeKind: TypeKind.Enum, EnumUnderlyingType: { } underlying } && IntegerInfo(underlying.SpecialType) is { } enumInteger)
        {
            kind = FieldKind.Enum;
            (integerType, width, signed) = enumInteger;
        }
        else if (memberType is IArrayTypeSymbol { Rank: 1, ElementType.SpecialType: SpecialType.System_Byte })
        {
            kind = FieldKind.ByteArray;
            width = NamedInt(fieldAttribute, "Length") ?? 0;
            if (width <= 0)
            {
                diagnostics.Add(Diagnostic.Create(Diagnostics.MissingLength, AttributeLocation(fieldAttribute) ?? location, member.Name, offset));
                hadError = true;
            }
        }
        else if (memberType is INamedTypeSymbol named && InlineArrayLength(named) is { } inlineLength && member is IFieldSymbol)
        {
            kind = FieldKind.InlineArray;
            width = inlineLength;
        }
        else if (memberType is INamedTypeSymbol nested && nested.GetAttributes().Any(a => IsAttribute(a, "BinaryFormatAttribute")))
        {
            if (NestedSize(nested, cancellationToken, depth) is not { } nestedSize)
            {
                dependsOnInvalidLayout = true;
                return null;
            }
            kind = FieldKind.Nested;
            width = nestedSize;
        }
        else
        {
            diagnostics.Add(Diagnostic.Create(Diagnostics.UnsupportedMemberType, location, member.Name, memberType.ToDisplayString()));
            return null;
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
        var memberTypeDisplay = memberType.ToDisplayString();

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
            member is IFieldSymbol { IsRequired: true } or IPropertySymbol { IsRequired: true });
    }

    /// <summary>Checks that conditions and alignments name earlier scalar fields, and fills in what the emitter needs to know about them.</summary>
    private static void ResolveReferences(INamedTypeSymbol type, List<(FieldModel Model, ISymbol Member, AttributeData FieldAttribute)> fields,
        ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var byName = fields.ToDictionary(f => f.Model.Name, f => f.Model, StringComparer.Ordinal);
        for (var i = 0; i < fields.Count; i++)
        {
            var (field, member, _) = fields[i];
            FieldModel? Resolve(string rule, string name)
            {
                var attributeName = rule.Trim('[', ']') + "Attribute";
                var location = member.GetAttributes().FirstOrDefault(a => a.AttributeClass?.Name == attributeName
                        && a.ConstructorArguments.Length > 0 && a.ConstructorArguments[0].Value as string == name) is { } attribute
                    ? AttributeLocation(attribute) ?? member.Locations.FirstOrDefault()
                    : member.Locations.FirstOrDefault();
                if (!byName.TryGetValue(name, out var target))
                {
                    diagnostics.Add(Diagnostic.Create(Diagnostics.UnknownMember, location, rule, field.Name, name, type.Name));
                    return null;
                }
                if (target.Offset >= field.Offset)
                {
                    diagnostics.Add(Diagnostic.Create(Diagnostics.MemberComesLater, location, rule, field.Name, name, target.Offset, field.Offset));
                    return null;
                }
                if (!target.IsScalar)
                {
                    diagnostics.Add(Diagnostic.Create(Diagnostics.RuleNotApplicable, location, rule + " naming '" + name + "'", field.Name, target.TypeName));
                    return null;
                }
                return target;
            }

            if (field.AlignMember is { } alignMember)
                Resolve("[AlignedTo]", alignMember);
            if (field.Conditions.Count > 0)
            {
                var resolved = new List<ConditionModel>();
                foreach (var condition in field.Conditions)
                {
                    if (Resolve("[PresentWhen]", condition.Member) is { } target)
                        resolved.Add(condition with { MemberIntegerType = target.IntegerType, MemberIsSigned = target.IsSigned, MemberIsBoolean = target.Kind == FieldKind.Boolean });
                }
                fields[i] = (field with { Conditions = resolved.ToEquatableArray() }, member, fields[i].FieldAttribute);
            }
        }
    }

    private static void CheckOverlaps(List<(FieldModel Model, ISymbol Member, AttributeData FieldAttribute)> fields, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        // Compare each field with the earlier field that reaches furthest, not just with its neighbour.
        var ordered = fields.OrderBy(f => f.Model.Offset).ToList();
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
    private static int? NestedSize(INamedTypeSymbol nested, CancellationToken cancellationToken, int depth)
    {
        if (nested.GetMembers("Size").OfType<IFieldSymbol>().FirstOrDefault(f => f.IsConst && f.ConstantValue is int) is { } sizeConstant)
            return (int)sizeConstant.ConstantValue!;
        if (depth >= MaxNestingDepth)
            return null;
        return Parse(nested, cancellationToken, depth + 1).Model?.Size;
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
