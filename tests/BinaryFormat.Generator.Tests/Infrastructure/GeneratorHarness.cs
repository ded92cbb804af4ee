using System.Collections.Immutable;
using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace BinaryFormat.Generator.Tests.Infrastructure;

/// <summary>Builds in-memory compilations and drives the BinaryFormat generator and analyzer over them.</summary>
public static class GeneratorHarness
{
    public const string ModelStep = "BinaryFormatTypes";
    public const string SourceStep = "BinaryFormatSource";
    public static readonly string[] TrackedSteps = [ModelStep, SourceStep];

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<Assembly> GeneratorAssembly = new(() => Assembly.Load("BinaryFormat.Generator"));

    /// <summary>The framework (implementation) assemblies plus the BinaryFormat runtime, loaded once for all tests.</summary>
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var references = trusted
            .Where(path => Path.GetDirectoryName(path) == frameworkDirectory)
            .Where(path => Path.GetFileName(path).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(path) is "mscorlib.dll" or "netstandard.dll")
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToList();
        references.Add(MetadataReference.CreateFromFile(typeof(BinaryFormatAttribute).Assembly.Location));
        return [.. references];
    });

    public static IIncrementalGenerator CreateGenerator() => CreateSingle<IIncrementalGenerator>();

    public static DiagnosticAnalyzer CreateAnalyzer() => CreateSingle<DiagnosticAnalyzer>();

    private static T CreateSingle<T>()
    {
        var types = GeneratorAssembly.Value.GetTypes()
            .Where(t => typeof(T).IsAssignableFrom(t) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
            .ToList();
        Assert.True(types.Count == 1, $"expected exactly one {typeof(T).Name} in BinaryFormat.Generator, found {types.Count}: {string.Join(", ", types)}");
        return (T)Activator.CreateInstance(types[0])!;
    }

    public static SyntaxTree Parse(string source, string path = "Input.cs") =>
        CSharpSyntaxTree.ParseText(SourceText.From(source, Encoding.UTF8), ParseOptions, path);

    public static CSharpCompilation CreateCompilation(params string[] sources) =>
        CreateCompilation(sources.Select((s, i) => Parse(s, i == 0 ? "Input.cs" : $"Input{i}.cs")));

    public static CSharpCompilation CreateCompilation(IEnumerable<SyntaxTree> trees) =>
        CSharpCompilation.Create(
            "SnapshotTests",
            trees,
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver(bool trackSteps = true) =>
        CSharpGeneratorDriver.Create(
            [CreateGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator once; fails the test if the generator threw.</summary>
    public static GeneratorRun Run(Compilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? CreateDriver()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var driverDiagnostics);
        var result = driver.GetRunResult();
        var single = Assert.Single(result.Results);
        Assert.True(single.Exception is null, $"the generator threw: {single.Exception}");
        return new GeneratorRun(driver, result, single, output, driverDiagnostics);
    }

    /// <summary>All generated files of a run in one text: a header line with the hint name, then the source.</summary>
    public static string GeneratedText(GeneratorRunResult result)
    {
        var text = new StringBuilder();
        foreach (var source in result.GeneratedSources.OrderBy(s => s.HintName, StringComparer.Ordinal))
        {
            text.Append("//----- ").Append(source.HintName).Append(" -----\n");
            text.Append(Snapshot.Normalize(source.SourceText.ToString()));
        }
        return text.ToString();
    }

    /// <summary>Errors of a compilation, formatted with their location and the offending line.</summary>
    public static string Describe(IEnumerable<Diagnostic> diagnostics) =>
        string.Join(Environment.NewLine, diagnostics.Select(d =>
        {
            var line = d.Location.IsInSource
                ? d.Location.SourceTree!.GetText().Lines[d.Location.GetLineSpan().StartLinePosition.Line].ToString().Trim()
                : "";
            return $"{d} | {line}";
        }));

    public static ImmutableArray<Diagnostic> RunAnalyzer(Compilation compilation)
    {
        // An analyzer that throws would otherwise just report nothing; make it fail the test instead.
        Exception? thrown = null;
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), (exception, _, _) => thrown ??= exception,
            concurrentAnalysis: false, logAnalyzerExecutionTime: false);
        var diagnostics = compilation.WithAnalyzers([CreateAnalyzer()], options).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        Assert.True(thrown is null, $"the analyzer threw: {thrown}");
        return diagnostics;
    }
}

public sealed record GeneratorRun(
    GeneratorDriver Driver,
    GeneratorDriverRunResult RunResult,
    GeneratorRunResult Result,
    Compilation Output,
    ImmutableArray<Diagnostic> DriverDiagnostics);
