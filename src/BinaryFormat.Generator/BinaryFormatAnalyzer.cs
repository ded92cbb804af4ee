using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace BinaryFormat.Generator;

/// <summary>
/// Reports BF0001… for <c>[BinaryFormat]</c> types. Kept apart from the generator so that its cached models never
/// hold locations or symbols, and so that diagnostics honour <c>#pragma warning disable</c> and .editorconfig.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BinaryFormatAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Diagnostics.TypeNotPartial, Diagnostics.OverlappingFields, Diagnostics.UnsupportedMemberType, Diagnostics.ValueDoesNotFit,
        Diagnostics.NegativeOffset, Diagnostics.UnknownMember, Diagnostics.MemberComesLater, Diagnostics.MemberNotWritable,
        Diagnostics.MissingLength, Diagnostics.SizeTooSmall, Diagnostics.RuleNotApplicable, Diagnostics.GenericType,
        Diagnostics.NoParameterlessConstructor, Diagnostics.NameCollision, Diagnostics.RequiredNonField,
        Diagnostics.OffsetAfterVariableMember, Diagnostics.LengthMemberNotInteger, Diagnostics.MissingLengthSpecification,
        Diagnostics.StrideTooSmall, Diagnostics.ConflictingLength, Diagnostics.MemberAfterToEnd, Diagnostics.SizeOnVariableLayout,
        Diagnostics.MeasuredTwice, Diagnostics.InvalidLength, Diagnostics.InvalidCase, Diagnostics.DuplicateCase,
        Diagnostics.ChecksumRangeReversed, Diagnostics.BitsOutsideMember, Diagnostics.BitsOverlap, Diagnostics.BitsTypeTooNarrow,
        Diagnostics.BitsNotPartialProperty, Diagnostics.InvalidByteOrderMember, Diagnostics.ArgsMismatch);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterSymbolAction(AnalyzeType, SymbolKind.NamedType);
    }

    private static void AnalyzeType(SymbolAnalysisContext context)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (!type.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == Parser.BinaryFormatAttributeName))
            return;
        foreach (var diagnostic in Parser.Parse(type, context.CancellationToken).Diagnostics)
            context.ReportDiagnostic(diagnostic);
    }
}
