using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace BinaryFormat.Generator;

/// <summary>
/// Adds readers, writers and validators to every <c>[BinaryFormat]</c> type. Diagnostics come from
/// <see cref="BinaryFormatAnalyzer"/>; this pipeline only caches value-equatable models and skips types with errors.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class BinaryFormatGenerator : IIncrementalGenerator
{
    /// <summary>Tracking name of the step that produces the cached <see cref="TypeModel"/>s.</summary>
    public const string TypesStep = "BinaryFormatTypes";

    /// <summary>Tracking name of the step that produces the generated source text.</summary>
    public const string SourceStep = "BinaryFormatSource";

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parser.BinaryFormatAttributeName,
                predicate: static (node, _) => node is TypeDeclarationSyntax,
                transform: static (ctx, cancellationToken) => Parser.ParseForGeneration((INamedTypeSymbol)ctx.TargetSymbol, cancellationToken));

        var types = parsed
            .Where(static result => result.Model is not null)
            .Select(static (result, _) => result.Model!)
            .WithTrackingName(TypesStep);

        var sources = types
            .Select(static (model, _) => new GeneratedSource(model.HintName, Emitter.Emit(model)))
            .WithTrackingName(SourceStep);

        context.RegisterSourceOutput(sources, static (spc, source) => spc.AddSource(source.HintName, source.Text));

        // A layout with errors still gets the signatures of its methods, so that its users see only the BF diagnostics.
        var stubs = parsed
            .Where(static result => result.Stub is not null)
            .Select(static (result, _) => new GeneratedSource(result.Stub!.HintName, Emitter.EmitStub(result.Stub!)));

        context.RegisterSourceOutput(stubs, static (spc, source) => spc.AddSource(source.HintName, source.Text));
    }
}

/// <summary>A generated file: its hint name and text.</summary>
internal sealed record GeneratedSource(string HintName, string Text);
