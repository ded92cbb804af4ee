using Microsoft.CodeAnalysis;
using static BinaryFormat.Generator.Tests.Infrastructure.GeneratorHarness;

namespace BinaryFormat.Generator.Tests;

/// <summary>Inputs that are valid but awkward for a code generator; input plus generated code must compile cleanly.</summary>
public class CompileTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "GlobalNamespace", """
            using BinaryFormat;
            [BinaryFormat] public partial struct Header { [Field(0)] public int X; }
            """ },
        { "MembersNamedLikeGeneratedLocals", """
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Header
            {
                [Field(0)] public byte value;
                [Field(1)] public byte source;
                [Field(2)] public byte destination;
                [Field(3)] public byte validator;
                [Field(4)] public byte context;
                [Field(5)] public byte error;
                [Field(6)] public byte position;
                [Field(7)] public byte errors;
                [Field(8), AlignedTo(nameof(value))] public ushort Aligned;
            }
            """ },
        { "SignedEnumAndBoolConditions", """
            using BinaryFormat;
            namespace Sample;
            public enum Mode : long { Off = -1, On = 1 }
            [BinaryFormat(ByteOrder.LittleEndian)] internal partial struct Header
            {
                [Field(0), Range(-5, 5)] public sbyte Delta;
                [Field(1)] public bool HasExtra;
                [Field(2), Magic(1)] public Mode Mode;
                [Field(10), PresentWhen(nameof(HasExtra), Comparison.Equal, 1)] public uint Extra;
                [Field(14), PresentWhen(nameof(Delta), Comparison.LessThan, -2, Otherwise = -1)] public short Negative;
                [Field(16), PresentWhen(nameof(Mode), Comparison.Equal, -1)] public byte WhenOff;
            }
            """ },
        { "PropertiesWithPrivateSetters", """
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public sealed partial class Header
            {
                [Field(0)] public int X { get; private set; }
                [Field(4), FlagsField(0xF0, RejectUnknown = true)] public byte Flags { get; private set; }
            }
            """ },
        { "EnumRules", """
            using BinaryFormat;
            namespace Sample;
            [System.Flags] public enum Features : uint { None = 0, A = 1, B = 2 }
            public enum Kind : byte { Zero, One, Two }
            [BinaryFormat] public partial struct Header
            {
                [Field(0), FlagsField(0x3, RejectUnknown = true)] public Features Features;
                [Field(4), Magic(1)] public Kind Tag;
                [Field(5), OneOf(0, 2)] public Kind Choice;
                [Field(6), Range(0, 1)] public Kind Limited;
                [Field(7), PresentWhen(nameof(Choice), Comparison.Equal, 2, Otherwise = 2)] public Kind Conditional;
            }
            """ },
        { "NestedViaPropertyAndClass", """
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Inner { [Field(0), Range(1, 9)] public ushort V; }
            [BinaryFormat] public partial class InnerClass { [Field(0), Reserved] public byte R { get; set; } }
            [BinaryFormat] public partial class Outer
            {
                [Field(0)] public Inner ByProperty { get; set; }
                [Field(2)] public InnerClass Reference { get; set; } = new();
            }
            """ },
        { "EmptyLayout", """
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat(Size = 16)] public partial struct Padding { }
            """ },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Compiles(string name, string source)
    {
        Assert.NotNull(name);
        var run = Run(CreateCompilation(source));
        Assert.NotEmpty(run.Result.GeneratedSources);
        SnapshotTests.AssertCompilesCleanly(run);
    }

    [Fact]
    public void TwoContextKeyAlignmentsCompile()
    {
        var run = Run(CreateCompilation("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Header
            {
                [Field(0), AlignedTo(ContextKey = "ClusterSize")] public ulong A;
                [Field(8), AlignedTo(ContextKey = "SectorSize")] public ulong B;
            }
            """));
        SnapshotTests.AssertCompilesCleanly(run);
    }

    [Fact]
    public void LayoutInsideAGenericClass()
    {
        var run = Run(CreateCompilation("""
            using BinaryFormat;
            namespace Sample;
            public partial class Outer<T>
            {
                [BinaryFormat] public partial struct Header { [Field(0)] public int X; }
            }
            """));
        // A layout nested in a generic type is generic too: reported, and it gets only throwing stubs.
        var diagnostic = Assert.Single(RunAnalyzer(run.Output));
        Assert.Equal("BF0012", diagnostic.Id);
        Assert.Equal("'Header' is generic; a [BinaryFormat] type must not have type parameters", diagnostic.GetMessage());
        AssertOnlyStubs(run);
    }

    [Fact]
    public void RequiredMembers()
    {
        var run = Run(CreateCompilation("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial class Header
            {
                [Field(0)] public required int X { get; set; }
                [Field(4)] public required uint Y;
            }
            """));
        // Required members are supported: the generated reader sets them all, so nothing is reported and it compiles.
        Assert.Empty(RunAnalyzer(run.Output));
        Assert.Single(run.Result.GeneratedSources);
        SnapshotTests.AssertCompilesCleanly(run);
    }

    [Theory]
    [InlineData("Read")]
    [InlineData("TryRead")]
    [InlineData("ReadUnchecked")]
    [InlineData("Write")]
    [InlineData("Validate")]
    [InlineData("ValidateInto")]
    [InlineData("OnValidate")]
    public void MemberNamedLikeAGeneratedMethodIsReported(string name)
    {
        var run = Run(CreateCompilation($$"""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Disk { [Field(0)] public ulong {{name}}; }
            """));
        var diagnostic = Assert.Single(RunAnalyzer(run.Output));
        Assert.Equal("BF0014", diagnostic.Id);
        Assert.Equal($"Member '{name}' has the name of a generated member (a generated method); rename it", diagnostic.GetMessage());
        AssertOnlyStubs(run);
    }

    [Fact]
    public void ALayoutWithErrorsDoesNotCascadeIntoItsUsers()
    {
        // Only the BF diagnostic on the layout: its users still compile against the (throwing) method signatures.
        var run = Run(CreateCompilation("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Broken { [Field(0)] public uint A; [Field(2)] public ushort B; }
            public static class User
            {
                public static int Use(byte[] bytes)
                {
                    var value = Broken.Read(bytes, 0, out var consumed);
                    value.Write(bytes);
                    return consumed + value.GetEncodedSize() + value.Validate().Count + (Broken.TryRead(bytes, out _, out _) ? 1 : 0);
                }
            }
            """));
        Assert.Equal(["BF0002"], RunAnalyzer(run.Output).Select(d => d.Id));
        AssertOnlyStubs(run);
        var stub = Assert.Single(run.Result.GeneratedSources).SourceText.ToString();
        Assert.Contains("InvalidOperationException", stub);
    }

    [Fact]
    public void ALayoutWithErrorsThatAsksForAViewDoesNotCascadeIntoItsViewUsers()
    {
        // Without a stub View, each use of Broken.View would add a CS0426 to the BF diagnostic.
        var run = Run(CreateCompilation("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat(GenerateView = true)] public partial struct Inner { [Field(0)] public ushort X; }
            [BinaryFormat(GenerateView = true)]
            public partial struct Broken
            {
                [Field(0)] public uint A; [Field(2)] public ushort B;
                [Field(4)] public Inner Nested; [Field(6), Count(2)] public Inner[] Table; [Field(10), Length(3)] public byte[] Bytes;
            }
            public static class User
            {
                public static long Use(byte[] bytes)
                {
                    var view = new Broken.View(bytes, 0);
                    System.ReadOnlySpan<byte> raw = view.Bytes;
                    long total = view.A + view.B + view.Nested.X + view.Table.Count + raw.Length + view.EncodedSize + view.Position;
                    foreach (var inner in view.Table)
                        total += inner.X;
                    return total + view.EncodedBytes.Length + view.Validate().Count + view.Read().A + Walk<Broken.View>(bytes);
                }

                private static int Walk<T>(byte[] bytes) where T : IBinaryView<T>, allows ref struct => BinaryLayout.Views<T>(bytes, 1).Count;
            }
            """));
        Assert.Equal(["BF0002"], RunAnalyzer(run.Output).Select(d => d.Id));
        var errors = run.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Describe(errors));
        var stub = Assert.Single(run.Result.GeneratedSources, s => s.HintName.Contains("Broken")).SourceText.ToString();
        Assert.DoesNotContain("IBinaryFormat", stub);
        Assert.Contains("ref struct View", stub);
    }

    /// <summary>A layout with errors gets at most throwing signatures: no reader, and no compiler error of their own.</summary>
    private static void AssertOnlyStubs(Infrastructure.GeneratorRun run)
    {
        Assert.All(run.Result.GeneratedSources, s => Assert.DoesNotContain("IBinaryFormat", s.SourceText.ToString()));
        var errors = run.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Describe(errors));
    }

    [Fact]
    public void NestedLayoutFromAReferencedAssembly()
    {
        // The nested layout's size must come from the referenced assembly's metadata (its Size constant).
        var library = Run(CreateCompilation("""
            using BinaryFormat;
            namespace Library;
            [BinaryFormat(ByteOrder.BigEndian, Size = 12)] public partial struct Inner { [Field(0), Range(1, 9)] public uint A; }
            """).WithAssemblyName("Library"));
        SnapshotTests.AssertCompilesCleanly(library);
        using var image = new MemoryStream();
        var emitted = library.Output.Emit(image);
        Assert.True(emitted.Success, Describe(emitted.Diagnostics));

        var run = Run(CreateCompilation("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Outer
            {
                [Field(0)] public byte Tag;
                [Field(1)] public Library.Inner Inner;
                [Field(13)] public byte After;
            }
            """).AddReferences(Microsoft.CodeAnalysis.MetadataReference.CreateFromImage(image.ToArray())));
        SnapshotTests.AssertCompilesCleanly(run);
        Assert.Empty(RunAnalyzer(run.Output));
        var outer = run.Output.GetTypeByMetadataName("Sample.Outer")!;
        var size = outer.GetMembers("Size").OfType<Microsoft.CodeAnalysis.IFieldSymbol>().Single();
        Assert.Equal(14, size.ConstantValue);
    }

    [Fact]
    public void OverlapWithANestedLayoutFromAReferencedAssemblyIsReported()
    {
        var library = Run(CreateCompilation("""
            using BinaryFormat;
            namespace Library;
            [BinaryFormat(ByteOrder.BigEndian, Size = 12)] public partial struct Inner { [Field(0)] public uint A; }
            """).WithAssemblyName("Library"));
        using var image = new MemoryStream();
        Assert.True(library.Output.Emit(image).Success);
        var run = Run(CreateCompilation("""
            using BinaryFormat;
            namespace Sample;
            [BinaryFormat] public partial struct Outer
            {
                [Field(0)] public Library.Inner Inner;
                [Field(11)] public byte Overlapping;
            }
            """).AddReferences(Microsoft.CodeAnalysis.MetadataReference.CreateFromImage(image.ToArray())));
        Assert.Equal("BF0002", Assert.Single(RunAnalyzer(run.Output)).Id);
    }
}
