using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using static BinaryFormat.Generator.Tests.Infrastructure.GeneratorHarness;

namespace BinaryFormat.Generator.Tests;

/// <summary>
/// The generator must be incremental: models are value-equatable and free of Roslyn objects, so that re-running over
/// an unchanged or unrelatedly edited compilation reuses every step instead of regenerating (IDE typing latency).
/// </summary>
public class CacheabilityTests
{
    private const string Helpers = """
        namespace Sample.Images;

        public static class Helpers
        {
            public static int Answer() => 42;
        }
        """;

    private static Compilation Baseline() =>
        CreateCompilation([.. TestInputs.All.Select((s, i) => Parse(s, $"Input{i}.cs")), Parse(Helpers, "Helpers.cs")]);

    [Fact]
    public void SecondRunOverTheSameCompilationIsCached()
    {
        var compilation = Baseline();
        var first = Run(compilation);
        var second = Run(compilation.Clone(), first.Driver);
        AssertNothingRegenerated(second.Result);
    }

    [Fact]
    public void AddingAnUnrelatedFileIsCached()
    {
        var compilation = Baseline();
        var first = Run(compilation);
        var edited = compilation.AddSyntaxTrees(Parse("namespace Other; public class Unrelated { public int M() => 1; }", "Unrelated.cs"));
        AssertNothingRegenerated(Run(edited, first.Driver).Result);
    }

    [Fact]
    public void EditingAnUnrelatedMethodInAnotherFileIsCached()
    {
        var compilation = Baseline();
        var first = Run(compilation);
        var edited = Replace(compilation, "Helpers.cs", "=> 42;", "=> 43;");
        AssertNothingRegenerated(Run(edited, first.Driver).Result);
    }

    [Fact]
    public void EditingAnUnrelatedMethodInTheLayoutFileIsCachedOrUnchanged()
    {
        // The edited tree holds the layout, so its model is recomputed; it must compare equal to the old one.
        var compilation = Baseline();
        var first = Run(compilation);
        var edited = Replace(compilation, "Input0.cs", "validator.Report(nameof(ClusterSize), 16, ClusterSize.ToString(), \"1 << ClusterBits\");",
            "validator.Report(nameof(ClusterSize), 16, ClusterSize.ToString(), \"a power of two\");");
        AssertNothingRegenerated(Run(edited, first.Driver).Result);
    }

    [Fact]
    public void ChangingALayoutIsNotCached()
    {
        // The control experiment: the assertions above can fail.
        var compilation = Baseline();
        var first = Run(compilation);
        var edited = Replace(compilation, "Input0.cs", "[Field(60)] public long Timestamp", "[Field(64)] public long Timestamp");
        var result = Run(edited, first.Driver).Result;
        var reasons = result.TrackedSteps[ModelStep].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Contains(IncrementalStepRunReason.Modified, reasons);
        var sources = result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Contains(IncrementalStepRunReason.Modified, sources);
    }

    [Fact]
    public void EditingANestedLayoutInAnotherFileUpdatesTheContainer()
    {
        // Caching must not be stale: after an edit, incremental output equals a from-scratch run.
        var inner = Parse("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Inner { [Field(0)] public uint A; }
            """, "Inner.cs");
        var outer = Parse("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Outer { [Field(0)] public Inner Inner; [Field(8)] public byte After; }
            """, "Outer.cs");
        var compilation = CreateCompilation([inner, outer]);
        var first = Run(compilation);
        Assert.Contains("public const int Size = 9;", GeneratedText(first.Result));

        var edited = Replace(compilation, "Inner.cs", "[Field(0)] public uint A; }", "[Field(0)] public uint A; [Field(4)] public uint B; }");
        var incremental = Run(edited, first.Driver);
        var fromScratch = Run(edited);
        Assert.Equal(GeneratedText(fromScratch.Result), GeneratedText(incremental.Result));
        Assert.Contains("Inner = global::Sample.Inner.ReadUnchecked(source.Slice(0, 8)),", GeneratedText(incremental.Result));
        SnapshotTests.AssertCompilesCleanly(incremental);
    }

    [Fact]
    public void AskingANestedLayoutForAViewUpdatesItsContainersView()
    {
        // The container's view shows the member as the nested layout's View only while that layout has one.
        var inner = Parse("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Inner { [Field(0)] public uint A; }
            """, "Inner.cs");
        var outer = Parse("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat(GenerateView = true)] public partial struct Outer { [Field(0)] public Inner Inner; }
            """, "Outer.cs");
        var compilation = CreateCompilation([inner, outer]);
        var first = Run(compilation);
        Assert.Contains("public __Span Inner => source.Slice(0, 4);", GeneratedText(first.Result));

        var edited = Replace(compilation, "Inner.cs", "[BinaryFormat]", "[BinaryFormat(GenerateView = true)]");
        var incremental = Run(edited, first.Driver);
        Assert.Equal(GeneratedText(Run(edited).Result), GeneratedText(incremental.Result));
        Assert.Contains("public global::Sample.Inner.View Inner => new(source.Slice(0, 4), position + 0);", GeneratedText(incremental.Result));
        SnapshotTests.AssertCompilesCleanly(incremental);
    }

    [Fact]
    public void EditingOneOfManyLayoutsRegeneratesOnlyThatLayout()
    {
        var compilation = Baseline();
        var first = Run(compilation);
        var edited = Replace(compilation, "Input1.cs", "[Field(38, ByteOrder = ByteOrder.LittleEndian)] public ushort ExplicitLittle;",
            "[Field(40, ByteOrder = ByteOrder.LittleEndian)] public ushort ExplicitLittle;");
        var result = Run(edited, first.Driver).Result;

        var sources = SourceReasons(result);
        Assert.Equal(TestInputs.All.Length + 15, sources.Count);
        var regenerated = sources.Where(s => s.Reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged)).ToList();
        Assert.Equal([("Sample.Mixed.AllTypes.g.cs", IncrementalStepRunReason.Modified)], regenerated);
        // The generated file of every other layout is reused, not rewritten.
        var outputs = result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Single(outputs, r => r == IncrementalStepRunReason.Modified);
    }

    [Fact]
    public void EditingANestedLayoutsSizeRegeneratesItsContainersOnly()
    {
        var inner = Parse("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Inner { [Field(0)] public uint A; }
            """, "Inner.cs");
        var outer = Parse("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Outer { [Field] public Inner Inner; [Field] public byte After; }
            [BinaryFormat] public partial class Table { [Field] public byte Count; [Field, Count(nameof(Count))] public Inner[] Items = []; }
            """, "Outer.cs");
        var unrelated = Parse("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Unrelated { [Field(0)] public ulong B; }
            """, "Unrelated.cs");
        var compilation = CreateCompilation([inner, outer, unrelated]);
        var first = Run(compilation);

        var edited = Replace(compilation, "Inner.cs", "[Field(0)] public uint A; }", "[Field(0)] public uint A; [Field(4)] public uint B; }");
        var result = Run(edited, first.Driver).Result;
        var regenerated = SourceReasons(result)
            .Where(s => s.Reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged))
            .Select(s => s.HintName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["Sample.Inner.g.cs", "Sample.Outer.g.cs", "Sample.Table.g.cs"], regenerated);
        Assert.Contains("After = source[8],", GeneratedText(result));
    }

    /// <summary>The hint name of each generated source of the last run, with why its emit step ran.</summary>
    private static List<(string HintName, IncrementalStepRunReason Reason)> SourceReasons(GeneratorRunResult result) =>
        result.TrackedSteps[SourceStep].SelectMany(s => s.Outputs)
            .Select(o => ((string)o.Value.GetType().GetProperty("HintName")!.GetValue(o.Value)!, o.Reason))
            .ToList();

    [Fact]
    public void ModelsOfIdenticalInputsAreEqual()
    {
        // Two independent parses share no objects, so only value equality can make these equal.
        var a = Models(Run(CreateCompilation(TestInputs.All)).Result);
        var b = Models(Run(CreateCompilation(TestInputs.All)).Result);
        Assert.NotEmpty(a);
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.True(Equals(a[i], b[i]), $"model {i} ({a[i].GetType().Name}) is not value-equal to an identical one");
            Assert.Equal(a[i].GetHashCode(), b[i].GetHashCode());
        }
    }

    [Fact]
    public void ModelsHoldNoRoslynObjects()
    {
        var result = Run(CreateCompilation(TestInputs.All)).Result;
        var models = Models(result);
        Assert.Equal(TestInputs.All.Length + 15, models.Count); // Nested, ClassAndRecord, VariableLength, Tagged, RunTimeByteOrderAndArguments and Views declare 2, 3, 2, 3, 3 and 8 layouts
        foreach (var model in models)
            AssertNoRoslynObjects(model);
        // The emitted-source step is cached too, so it must be just as clean.
        foreach (var output in result.TrackedSteps[SourceStep].SelectMany(s => s.Outputs))
            AssertNoRoslynObjects(output.Value);
    }

    [Fact]
    public void ReachabilityWalkFindsHiddenRoslynObjects()
    {
        // The control experiment for the walk: a symbol buried in a list inside a record must be found.
        var symbol = CreateCompilation("class C {}").GetTypeByMetadataName("C")!;
        var hidden = new Holder("x", [new Holder("y", [], symbol)], null);
        var error = Assert.ThrowsAny<Exception>(() => AssertNoRoslynObjects(hidden));
        Assert.Contains("ISymbol", error.Message);
    }

    private sealed record Holder(string Name, List<Holder> Children, object? Payload);

    private static Compilation Replace(Compilation compilation, string path, string oldText, string newText)
    {
        var tree = compilation.SyntaxTrees.Single(t => t.FilePath == path);
        var text = tree.GetText().ToString();
        Assert.Contains(oldText, text);
        return compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(text.Replace(oldText, newText))));
    }

    private static List<object> Models(GeneratorRunResult result)
    {
        Assert.True(result.TrackedSteps.ContainsKey(ModelStep), $"no tracked step named {ModelStep}; found: {string.Join(", ", result.TrackedSteps.Keys)}");
        return result.TrackedSteps[ModelStep].SelectMany(s => s.Outputs).Select(o => o.Value).Where(v => v is not null).ToList()!;
    }

    private static void AssertNothingRegenerated(GeneratorRunResult result)
    {
        foreach (var name in TrackedSteps)
        {
            Assert.True(result.TrackedSteps.TryGetValue(name, out var steps), $"no tracked step named {name}; found: {string.Join(", ", result.TrackedSteps.Keys)}");
            Assert.NotEmpty(steps);
            var bad = steps.SelectMany(s => s.Outputs)
                .Where(o => o.Reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged))
                .Select(o => $"{name}: {o.Reason} {o.Value}")
                .ToList();
            Assert.True(bad.Count == 0, "steps that ran again:" + Environment.NewLine + string.Join(Environment.NewLine, bad));
        }
        var outputs = result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs)
            .Where(o => o.Reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged))
            .Select(o => $"output: {o.Reason} {o.Value}")
            .ToList();
        Assert.True(outputs.Count == 0, "source outputs that ran again:" + Environment.NewLine + string.Join(Environment.NewLine, outputs));
    }

    private static readonly Type[] Forbidden =
        [typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(SemanticModel), typeof(Location), typeof(AttributeData)];

    /// <summary>Walks every field (public or not, through base types, arrays and collections) of the object graph.</summary>
    internal static void AssertNoRoslynObjects(object root)
    {
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<(object Value, string Path)>();
        pending.Push((root, root.GetType().Name));
        while (pending.Count > 0)
        {
            var (value, path) = pending.Pop();
            var type = value.GetType();
            if (!type.IsValueType && !visited.Add(value))
                continue;
            Assert.True(visited.Count < 100_000, "the model graph is implausibly large");
            CheckType(type, path);
            if (type.IsPrimitive || type.IsEnum || value is string or decimal or Type or Delegate)
                continue;
            if (value is Array array)
            {
                CheckType(type.GetElementType()!, path + "[]");
                if (type.GetElementType()!.IsPrimitive)
                    continue;
                int index = 0;
                foreach (var item in array)
                {
                    if (item is not null)
                        pending.Push((item, $"{path}[{index}]"));
                    index++;
                }
                continue;
            }
            for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
            {
                foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (field.FieldType.IsPointer || field.FieldType.IsByRef)
                        continue;
                    CheckType(field.FieldType, $"{path}.{field.Name} (declared)");
                    if (field.GetValue(value) is { } child)
                        pending.Push((child, $"{path}.{field.Name}"));
                }
            }
        }

        static void CheckType(Type type, string path)
        {
            foreach (var forbidden in Forbidden)
            {
                Assert.False(forbidden.IsAssignableFrom(type) || (type.IsInterface && type.IsAssignableTo(forbidden)),
                    $"the model reaches a {forbidden.Name} ({type.FullName}) at {path}");
                if (type.IsGenericType)
                    foreach (var argument in type.GetGenericArguments())
                        Assert.False(forbidden.IsAssignableFrom(argument), $"the model can hold a {forbidden.Name} ({type}) at {path}");
            }
        }
    }
}
