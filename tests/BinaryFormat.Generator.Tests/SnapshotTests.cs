using System.Runtime.CompilerServices;
using BinaryFormat.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using static BinaryFormat.Generator.Tests.Infrastructure.GeneratorHarness;

namespace BinaryFormat.Generator.Tests;

/// <summary>
/// The generated source for representative inputs, compared with the committed Snapshots/*.verified.cs.
/// Each input plus its generated code must also compile cleanly, so a snapshot can never approve broken code.
/// </summary>
public class SnapshotTests
{
    [Fact]
    public void BigEndianHeaderWithEveryRule() => VerifyGenerated(TestInputs.BigEndianHeader);

    [Fact]
    public void LittleEndianWithPerFieldOverride() => VerifyGenerated(TestInputs.LittleEndianWithOverride);

    [Fact]
    public void NestedLayoutsAndContainingTypes() => VerifyGenerated(TestInputs.Nested);

    [Fact]
    public void ClassRecordAndRecordStruct() => VerifyGenerated(TestInputs.ClassAndRecord);

    [Fact]
    public void ByteArrayAndInlineArrayBlocks() => VerifyGenerated(TestInputs.ByteBlocks);

    [Fact]
    public void VariableLengthMembers() => VerifyGenerated(TestInputs.VariableLength);

    [Fact]
    public void TaggedMember() => VerifyGenerated(TestInputs.Tagged);

    [Fact]
    public void Bitfields() => VerifyGenerated(TestInputs.Bitfields);

    [Fact]
    public void RunTimeByteOrderAndArguments() => VerifyGenerated(TestInputs.RunTimeByteOrderAndArguments);

    [Fact]
    public void Views() => VerifyGenerated(TestInputs.Views);

    [Theory]
    [InlineData(nameof(TestInputs.BigEndianHeader))]
    [InlineData(nameof(TestInputs.LittleEndianWithOverride))]
    [InlineData(nameof(TestInputs.Nested))]
    [InlineData(nameof(TestInputs.ClassAndRecord))]
    [InlineData(nameof(TestInputs.ByteBlocks))]
    [InlineData(nameof(TestInputs.VariableLength))]
    [InlineData(nameof(TestInputs.Tagged))]
    [InlineData(nameof(TestInputs.Bitfields))]
    [InlineData(nameof(TestInputs.RunTimeByteOrderAndArguments))]
    public void ViewsCompileForEveryInput(string input)
    {
        var source = (string)typeof(TestInputs).GetField(input)!.GetValue(null)!;
        var withViews = TestInputs.WithViews(source);
        Assert.Contains("GenerateView = true", withViews);
        var run = Run(CreateCompilation(withViews));
        AssertCompilesCleanly(run);
        Assert.Contains(run.Result.GeneratedSources, s => s.SourceText.ToString().Contains("public readonly ref struct View"));
    }

    [Fact]
    public void AllInputsTogetherCompileWithoutConflicts()
    {
        // Several layouts in one compilation must not produce clashing hint names or helper types.
        var run = Run(CreateCompilation(TestInputs.All));
        AssertCompilesCleanly(run);
        var hintNames = run.Result.GeneratedSources.Select(s => s.HintName).ToList();
        Assert.Equal(hintNames.Count, hintNames.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void GeneratedCodeNeedsNoUsings()
    {
        // Generated code must not depend on the user's usings (projects with ImplicitUsings disabled).
        var run = Run(CreateCompilation(TestInputs.ByteBlocks.Replace("global using System;\n", "")));
        AssertCompilesCleanly(run);
    }

    [Fact]
    public void MemberNamedSizeIsAllowed()
    {
        // qcow2's header has a field called `size`; a user will name a member Size. The generated size constant then
        // takes the name EncodedSize, so nothing is reported and both can be used.
        var run = Run(CreateCompilation("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Disk { [Field(0)] public ulong Size; }
            public static class User { public static ulong Use(Disk d) => d.Size + (ulong)Disk.EncodedSize; }
            """));
        Assert.Empty(RunAnalyzer(run.Output));
        Assert.Single(run.Result.GeneratedSources);
        AssertCompilesCleanly(run);
    }

    [Fact]
    public void GeneratorIgnoresTypesWithoutTheAttribute()
    {
        var run = Run(CreateCompilation("""
            namespace Sample;
            public partial struct Plain { public int X; }
            """));
        Assert.Empty(run.Result.GeneratedSources);
    }

    private static void VerifyGenerated(string source, [CallerMemberName] string testName = "", [CallerFilePath] string sourceFile = "")
    {
        var run = Run(CreateCompilation(source));
        AssertCompilesCleanly(run);
        Assert.NotEmpty(run.Result.GeneratedSources);
        Snapshot.Verify(GeneratedText(run.Result), null, testName, sourceFile);
    }

    /// <summary>No errors anywhere, and no warnings inside generated files (users build with TreatWarningsAsErrors).</summary>
    internal static void AssertCompilesCleanly(GeneratorRun run)
    {
        Assert.True(run.DriverDiagnostics.IsEmpty, "generator diagnostics: " + Describe(run.DriverDiagnostics));
        var generatedTrees = run.Result.GeneratedSources.Select(s => s.SyntaxTree).ToHashSet();
        var problems = run.Output.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error ||
                        (d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree is { } tree && generatedTrees.Contains(tree)))
            .ToList();
        Assert.True(problems.Count == 0, "the input plus the generated code does not compile cleanly:" + Environment.NewLine + Describe(problems));
    }
}
