using BinaryFormat.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using static BinaryFormat.Generator.Tests.Infrastructure.GeneratorHarness;

namespace BinaryFormat.Generator.Tests;

/// <summary>
/// One test per diagnostic: the analyzer reports exactly the marked IDs at the marked spans
/// (<c>{|BF0001:text|}</c>), a <c>#pragma warning disable</c> silences it, the generator does not crash on the
/// invalid input and emits nothing that adds compiler errors of its own.
/// </summary>
public class DiagnosticTests
{
    private const string Usings = "using BinaryFormat;\nusing System.Runtime.CompilerServices;\n";

    [Fact]
    public void BF0001_TypeNotPartial() => Verify("BF0001", """
        [BinaryFormat] public struct {|BF0001:Header|} { [Field(0)] public int X; }
        """, "'Header' must be declared partial so that the generated reader and writer can be added to it");

    [Fact]
    public void BF0001_ContainingTypeNotPartial() => Verify("BF0001", """
        public class {|BF0001:Outer|}
        {
            [BinaryFormat] public partial struct Header { [Field(0)] public int X; }
        }
        """);

    [Fact]
    public void BF0002_OverlappingFields() => Verify("BF0002", """
        [BinaryFormat] public partial struct Header
        {
            [Field(0)] public uint A;
            [{|BF0002:Field(2)|}] public ushort B;
        }
        """, "Field 'B' (bytes 2..3) overlaps field 'A' (bytes 0..3)");

    [Fact]
    public void BF0002_OverlapWithAFieldThatIsNotTheNeighbour() => Verify("BF0002", """
        [BinaryFormat] public partial struct Header
        {
            [Field(0)] public ulong Wide;
            [{|BF0002:Field(2)|}] public byte B;
            [{|BF0002:Field(4)|}] public byte C;
        }
        """);

    [Fact]
    public void BF0003_UnsupportedMemberType() => Verify("BF0003", """
        [BinaryFormat] public partial struct Header
        {
            [Field(0)] public float {|BF0003:Ratio|};
            [Field(4)] public object {|BF0003:Name|} { get; set; }
        }
        """);

    [Fact]
    public void BF0004_AttributeValueDoesNotFitTheMember() => Verify("BF0004", """
        [BinaryFormat] public partial struct Header
        {
            [Field(0), {|BF0004:Magic(0x1FF)|}] public byte Magic;
            [Field(1), {|BF0004:Range(0, 300)|}] public byte Small;
            [Field(2), {|BF0004:OneOf(1, -1)|}] public ushort Unsigned;
        }
        """);

    [Fact]
    public void BF0005_NegativeOffset() => Verify("BF0005", """
        [BinaryFormat] public partial struct Header { [{|BF0005:Field(-4)|}] public int X; }
        """, "Member 'X' has offset -4; offsets must be zero or positive");

    [Fact]
    public void BF0006_ConditionOrAlignmentNamesAMissingMember() => Verify("BF0006", """
        [BinaryFormat] public partial struct Header
        {
            [Field(0)] public byte Version;
            [Field(1), {|BF0006:PresentWhen("Versoin", Comparison.Equal, 1)|}] public byte Extra;
            [Field(2), {|BF0006:AlignedTo("ClusterSize")|}] public ushort Offset;
        }
        """);

    [Fact]
    public void BF0006_PointsAtTheFaultyOneOfSeveralConditions() => Verify("BF0006", """
        [BinaryFormat] public partial struct Header
        {
            [Field(0)] public byte Version;
            [Field(1), PresentWhen(nameof(Version), Comparison.Equal, 1), {|BF0006:PresentWhen("Missing", Comparison.Equal, 1)|}] public byte Extra;
        }
        """);

    [Fact]
    public void BF0007_ConditionOrAlignmentNamesALaterMember() => Verify("BF0007", """
        [BinaryFormat] public partial struct Header
        {
            [Field(0), {|BF0007:AlignedTo(nameof(Alignment))|}] public uint Offset;
            [Field(4), {|BF0007:PresentWhen(nameof(Alignment), Comparison.NotEqual, 0)|}] public uint Extra;
            [Field(8)] public uint Alignment;
        }
        """);

    [Fact]
    public void BF0008_MemberNotWritable() => Verify("BF0008", """
        [BinaryFormat] public partial struct Header
        {
            [Field(0)] public readonly int {|BF0008:Frozen|};
            [Field(4)] public int {|BF0008:GetOnly|} { get; }
            [Field(8)] public int {|BF0008:InitOnly|} { get; init; }
        }
        """);

    [Fact]
    public void BF0009_ByteBlockWithoutALength() => Verify("BF0009", """
        [BinaryFormat] public partial struct Header
        {
            [Field(0)] public uint Length;
            [{|BF0009:Field(4)|}] public byte[] Data;
        }
        """);

    [Fact]
    public void BF0010_ExplicitSizeTooSmall() => Verify("BF0010", """
        [{|BF0010:BinaryFormat(ByteOrder.BigEndian, Size = 6)|}] public partial struct Header
        {
            [Field(0)] public uint A;
            [Field(4)] public uint B;
        }
        """, "[BinaryFormat(Size = 6)] on 'Header' is smaller than the end of its last field (8)");

    [Fact]
    public void BF0011_RuleDoesNotApplyToTheMember() => Verify("BF0011", """
        [BinaryFormat] public partial struct Header
        {
            [Field(0), {|BF0011:Range(0, 1)|}] public bool Enabled;
        }
        """);

    [Fact]
    public void BF0012_GenericLayout() => Verify("BF0012", """
        [BinaryFormat] public partial struct {|BF0012:Header|}<T> { [Field(0)] public int X; }
        """);

    [Fact]
    public void BF0013_ClassWithoutParameterlessConstructor() => Verify("BF0013", """
        [BinaryFormat] public partial class {|BF0013:Message|}
        {
            public Message(int id) => Id = id;
            [Field(0)] public int Id { get; set; }
        }
        """);

    [Fact]
    public void BF0014_MemberNamedLikeAGeneratedMember() => Verify("BF0014", """
        [BinaryFormat] public partial struct Disk
        {
            [Field(0)] public ulong {|BF0014:Write|};
            [Field(8), FlagsField(0x3)] public uint Features;
            public ulong {|BF0014:FeaturesUnknownBits|} => 0;
        }
        """, "Member 'Write' has the name of a generated member (a generated method); rename it");

    [Fact]
    public void BF0015_RequiredMemberWithoutField() => Verify("BF0015", """
        [BinaryFormat] public partial class Message
        {
            [Field(0)] public required int Id { get; set; }
            public required string {|BF0015:Label|} { get; set; }
        }
        """, "Member 'Label' is required but has no [Field], so Read cannot set it; give it a [Field] or drop 'required'");

    [Fact]
    public void BF0016_ExplicitOffsetAfterAVariableMember() => Verify("BF0016", """
        [BinaryFormat] public partial struct Header
        {
            [Field(0)] public byte Length;
            [Field(1), Length(nameof(Length))] public byte[] Data;
            [{|BF0016:Field(8)|}] public uint After;
        }
        """, "Member 'After' has a fixed offset, but variable-length member 'Data' comes before it; declare it after 'Data' with [Field] and no offset");

    [Fact]
    public void BF0016_FixedMemberDeclaredEarlierButPlacedInsideTheVariablePart() => Verify("BF0016", """
        [BinaryFormat] public partial struct Header
        {
            [{|BF0016:Field(4)|}] public uint Inside;
            [Field(0)] public byte Length;
            [Field(2), Length(nameof(Length))] public byte[] Data;
        }
        """);

    [Fact]
    public void BF0017_LengthCountOrStrideMemberIsNotAnInteger() => Verify("BF0017", """
        public enum Kind : byte { A }
        [BinaryFormat] public partial struct Header
        {
            [Field] public Kind Kind;
            [Field] public bool Flag;
            [Field, {|BF0017:Length(nameof(Kind))|}] public byte[] Data;
            [Field, {|BF0017:Count(nameof(Flag))|}] public ushort[] Words;
        }
        """, "[Length] naming 'Kind' on 'Data' names a member of type 'global::Kind'; a length, count or stride must be an integer field");

    [Fact]
    public void BF0018_StringOrArrayWithoutALength() => Verify("BF0018", """
        [BinaryFormat] public partial class Header
        {
            [Field] public string {|BF0018:Name|} = "";
            [Field] public ushort[] {|BF0018:Words|} = [];
        }
        """, "Member 'Name' of type 'string' needs to know where it ends: [Length(nameof(Member))], [Length(n)], [Length(ToEnd = true)] or [NullTerminated]");

    [Fact]
    public void BF0019_StrideSmallerThanTheElement() => Verify("BF0019", """
        [BinaryFormat] public partial struct Entry { [Field] public ulong Id; }
        [BinaryFormat] public partial class Table
        {
            [Field] public byte Count;
            [Field, Count(nameof(Count)), {|BF0019:Stride(4)|}] public Entry[] Entries = [];
        }
        """, "[Stride(4)] on 'Entries' is smaller than its element (8 bytes)");

    [Fact]
    public void BF0020_TwoLengthsForOneMember() => Verify("BF0020", """
        [BinaryFormat] public partial class Header
        {
            [Field] public byte Length;
            [Field, Length(nameof(Length)), {|BF0020:NullTerminated|}] public string Name = "";
        }
        """, "Member 'Name' has both [Length] and [NullTerminated]; give it one");

    [Fact]
    public void BF0021_MemberAfterOneThatTakesTheRest() => Verify("BF0021", """
        [BinaryFormat] public partial class Header
        {
            [Field, Length(ToEnd = true)] public byte[] Rest = [];
            [Field] public byte {|BF0021:After|};
        }
        """, "'Rest' takes every remaining byte ([Length(ToEnd = true)]), so member 'After' cannot follow it");

    [Fact]
    public void BF0022_SizeOnAVariableLayout() => Verify("BF0022", """
        [{|BF0022:BinaryFormat(ByteOrder.BigEndian, Size = 16)|}] public partial class Header
        {
            [Field] public byte Length;
            [Field, Length(nameof(Length))] public byte[] Data = [];
        }
        """, "[BinaryFormat(Size = 16)] cannot be used on 'Header': its size varies with member 'Data'; it reports it with GetEncodedSize()");

    [Fact]
    public void BF0023_OneLengthForTwoMembers() => Verify("BF0023", """
        [BinaryFormat] public partial class Header
        {
            [Field] public byte Length;
            [Field, Length(nameof(Length))] public byte[] First = [];
            [Field, Length(nameof(Length))] public byte[] {|BF0023:Second|} = [];
        }
        """, "'Length' already gives the length of 'First', so it cannot also give that of 'Second'; Write could not fill it in");

    [Fact]
    public void BF0024_InvalidLengthOrCount() => Verify("BF0024", """
        [BinaryFormat] public partial class Header
        {
            [Field, {|BF0024:Length(0)|}] public byte[] Empty = [];
            [Field, {|BF0024:Length|}] public string Nothing = "";
            [Field, {|BF0024:Count(-1)|}] public ushort[] Negative = [];
            [Field, {|BF0024:PadTo(0)|}] public byte[] NoPadding = [];
        }
        """);

    [Fact]
    public void BF0020_PaddingWithALength() => Verify("BF0020", """
        [BinaryFormat] public partial class Header
        {
            [Field] public byte Length;
            [Field, Length(nameof(Length)), {|BF0020:PadTo(8)|}] public byte[] Data = [];
        }
        """, "Member 'Data' has both [Length] and [PadTo]; give it one");

    [Fact]
    public void BF0011_PaddingThatIsNotAByteBlock() => Verify("BF0011", """
        [BinaryFormat] public partial class Header
        {
            [Field, {|BF0011:PadTo(8)|}] public uint Value;
        }
        """, "[PadTo] cannot be used on member 'Value' of type 'uint'");

    [Fact]
    public void BF0006_UntilNamesAMissingMemberOfTheElement() => Verify("BF0006", """
        [BinaryFormat] public partial struct Item { [Field] public uint Type; }
        [BinaryFormat] public partial class List
        {
            [Field, {|BF0006:Until("Kind", 0)|}] public Item[] Items = [];
        }
        """);

    [Fact]
    public void BF0007_LengthFieldComesLater() => Verify("BF0007", """
        [BinaryFormat] public partial class Header
        {
            [Field, {|BF0007:Length(nameof(Length))|}] public byte[] Data = [];
            [Field] public byte Length;
        }
        """);

    [Fact]
    public void BF0025_CaseThatIsNotALayoutOfTheMember() => Verify("BF0025", """
        public interface IBody;
        [BinaryFormat] public partial struct NotABody { [Field] public uint A; }
        [BinaryFormat] public partial class Message
        {
            [Field] public byte Kind;
            [Field, SwitchOn(nameof(Kind)), {|BF0025:Case(1, typeof(string))|}, {|BF0025:Case(2, typeof(NotABody))|}] public IBody? Body;
        }
        """, "[Case] layout 'string' on 'Body' must be a [BinaryFormat] type that converts to 'IBody?'");

    [Fact]
    public void BF0026_TwoFallbacksOrTwoCasesForOneTag() => Verify("BF0026", """
        [BinaryFormat] public partial class Raw { [Field, Length(ToEnd = true)] public byte[] Bytes = []; }
        [BinaryFormat] public partial class Message
        {
            [Field] public byte Kind;
            [Field, SwitchOn(nameof(Kind)), Case(1, typeof(Raw)), {|BF0026:Case(1, typeof(Raw))|}, Case(typeof(Raw)), {|BF0026:Case(typeof(Raw))|}] public object Body = new Raw();
        }
        """, "Member 'Body' has a second case for 1; each tag and the fallback may appear once", "Member 'Body' has a second fallback; each tag and the fallback may appear once");

    [Fact]
    public void BF0027_ChecksumRangeReversed() => Verify("BF0027", """
        [BinaryFormat] public partial struct Header
        {
            [Field] public uint A;
            [Field] public uint B;
            [Field, {|BF0027:Checksum(ChecksumAlgorithm.Crc32, From = nameof(B), To = nameof(A))|}] public uint Crc;
        }
        """, "[Checksum] on 'Crc' covers 'B' to 'A', but 'A' comes before 'B'");

    [Fact]
    public void BF0006_ChecksumRangeOutsideTheRecord() => Verify("BF0006", """
        [BinaryFormat] public partial struct Header
        {
            [Field] public uint A;
            [Field, {|BF0006:Checksum(ChecksumAlgorithm.Crc32C, To = "Missing")|}] public uint Crc;
        }
        """);

    [Fact]
    public void BF0011_ChecksumOnANonUintMember() => Verify("BF0011", """
        [BinaryFormat] public partial struct Header
        {
            [Field] public uint A;
            [Field, {|BF0011:Checksum(ChecksumAlgorithm.Crc32)|}] public ulong Crc;
        }
        """);

    [Fact]
    public void BF0028_BitsOutsideTheMember() => Verify("BF0028", """
        [BinaryFormat] public partial struct Header
        {
            [Field] public ushort Word;
            [{|BF0028:Bits(nameof(Word), 12, 5)|}] public partial byte High { get; set; }
            [{|BF0028:Bits(nameof(Word), 0, 0)|}] public partial byte None { get; set; }
        }
        """, "[Bits] on 'High' takes bits 12..16, but 'Word' has 16 bits, numbered 0..15 from the least significant; give a first bit of 0 or more and a count of 1 or more that fit");

    [Fact]
    public void BF0029_BitfieldsOverlap() => Verify("BF0029", """
        [BinaryFormat] public partial struct Header
        {
            [Field] public ushort Word;
            [Bits(nameof(Word), 0, 9)] public partial ushort Flags { get; set; }
            [{|BF0029:Bits(nameof(Word), 8, 4)|}] public partial byte Offset { get; set; }
        }
        """, "[Bits] on 'Offset' takes bits 8..11 of 'Word', which overlap bits 0..8 taken by 'Flags'");

    [Fact]
    public void BF0030_BitfieldTypeTooNarrow() => Verify("BF0030", """
        [BinaryFormat] public partial struct Header
        {
            [Field] public ulong Entry;
            [Bits(nameof(Entry), 0, 9)] public partial byte {|BF0030:Low|} { get; set; }
            [Bits(nameof(Entry), 9, 2)] public partial bool {|BF0030:Pair|} { get; set; }
            [Bits(nameof(Entry), 11, 8)] public partial sbyte {|BF0030:Signed|} { get; set; }
            [Bits(nameof(Entry), 19, 4)] public partial string {|BF0030:Text|} { get; set; }
        }
        """, "'Low' of type 'byte' cannot hold 9 bits; use bool for one bit, or an integer or enum type wide enough (a signed type holds one bit less)");

    [Fact]
    public void BF0031_BitfieldIsNotAPartialProperty() => Verify("BF0031", """
        [BinaryFormat] public partial struct Header
        {
            [Field] public ushort Word;
            [Bits(nameof(Word), 4, 4)] public byte {|BF0031:Mid|} { get; set; }
            [Bits(nameof(Word), 8, 4)] public partial byte {|BF0031:High|} { get; init; }
        }
        """, "[Bits] member 'Mid' must be an instance partial property declared with get and set and no body, such as 'public partial byte Mid { get; set; }', so that it can be generated over the bits of 'Word'");

    [Fact]
    public void BF0006_BitsOfAnUnknownMember() => Verify("BF0006", """
        [BinaryFormat] public partial struct Header
        {
            [Field] public ushort Word;
            [{|BF0006:Bits("Missing", 0, 4)|}] public partial byte Low { get; set; }
        }
        """, "[Bits] on 'Low' names 'Missing', which is not a [Field] member of 'Header'");

    [Fact]
    public void BF0011_BitsMisused() => Verify("BF0011", """
        public enum Kind : byte { A }
        [BinaryFormat] public partial struct Header
        {
            [Field] public Kind Tag;
            [Field] public ushort Word;
            [{|BF0011:Bits(nameof(Tag), 0, 4)|}] public partial byte FromEnum { get; set; }
            [Bits(nameof(Word), 0, 4), {|BF0011:Magic(1)|}] public partial byte WithMagic { get; set; }
            [Field, {|BF0011:Bits(nameof(Word), 4, 4)|}] public partial byte AlsoField { get; set; }
        }
        """);

    [Fact]
    public void BF0004_BitfieldRuleValueWiderThanTheBits() => Verify("BF0004", """
        [BinaryFormat] public partial struct Header
        {
            [Field] public ushort Word;
            [Bits(nameof(Word), 12, 4), {|BF0004:Range(5, 16)|}] public partial byte Offset { get; set; }
        }
        """, "[Range] maximum value 16 does not fit member 'Offset' of type 'byte of 4 bits'");

    [Fact]
    public void BF0032_ByteOrderFromAnUnsuitableMember() => Verify("BF0032", """
        [BinaryFormat, {|BF0032:ByteOrderFrom(nameof(Data))|}]
        public partial struct Header { [Field] public byte Data; [Field] public uint Value; }
        [BinaryFormat, {|BF0032:ByteOrderFrom(nameof(Order))|}]
        public partial struct Passed { [Argument] public uint Order; [Field] public uint Value; }
        [BinaryFormat, {|BF0032:ByteOrderFrom(nameof(Name), Little = 1, Big = 2)|}]
        public partial struct Named { [Field, Length(4)] public byte[] Name; [Field] public uint Value; }
        """, "[ByteOrderFrom] on 'Header' names 'Data', which must be an integer or enum [Field] with different Little and Big values, or an [Argument] of type ByteOrder");

    [Fact]
    public void BF0006_ByteOrderFromAnUnknownMember() => Verify("BF0006", """
        [BinaryFormat, {|BF0006:ByteOrderFrom("Missing", Little = 1, Big = 2)|}]
        public partial struct Header { [Field] public uint Value; }
        """);

    [Fact]
    public void BF0033_ArgsDoNotMatchTheNestedLayout() => Verify("BF0033", """
        [BinaryFormat] public partial class Inner { [Argument] public uint Size; [Argument] public bool Flag; [Field] public uint Value; }
        [BinaryFormat] public partial class Outer
        {
            [Field] public uint Size;
            [Field] public uint Other;
            [Field, {|BF0033:Args(nameof(Size))|}] public Inner A = new();
            [Field, {|BF0033:Args(nameof(Size), nameof(Other))|}] public Inner B = new();
        }
        """, "[Args] on 'A' passes 1 value(s), but 'global::Inner' declares 2 [Argument] member(s)",
        "[Args] on 'B' passes 'Other' of type uint, but 'global::Inner' declares 2 [Argument] member(s); argument 2 is of type bool");

    [Fact]
    public void BF0007_ArgsNameALaterMember() => Verify("BF0007", """
        [BinaryFormat] public partial class Inner { [Argument] public uint Size; [Field] public uint Value; }
        [BinaryFormat] public partial class Outer
        {
            [Field, {|BF0007:Args("Size")|}] public Inner A = new();
            [Field] public uint Size;
        }
        """);

    [Fact]
    public void BF0011_ArgumentAndArgsMisused() => Verify("BF0011", """
        [BinaryFormat] public partial class Layout
        {
            [{|BF0011:Argument|}] public string Name = "";
            [Field, {|BF0011:Argument|}] public uint Both;
            [Field] public uint Size;
            [Field, {|BF0011:Args(nameof(Size))|}] public uint NotNested;
        }
        """);

    [Fact]
    public void ErrorInANestedLayoutIsReportedOnlyWhereItIs() => Verify("BF0002", """
        [BinaryFormat] public partial struct Inner { [Field(0)] public uint A; [{|BF0002:Field(2)|}] public ushort B; }
        [BinaryFormat] public partial struct Outer { [Field(0)] public Inner I; [Field(8)] public byte After; }
        """);

    [Fact]
    public void EveryDiagnosticTheAnalyzerSupportsHasATest()
    {
        var tested = typeof(DiagnosticTests).GetMethods()
            .Where(m => m.GetCustomAttributes(typeof(FactAttribute), false).Length > 0 && m.Name.StartsWith("BF", StringComparison.Ordinal))
            .Select(m => m.Name[..6])
            .ToHashSet();
        var supported = CreateAnalyzer().SupportedDiagnostics.Select(d => d.Id).ToHashSet();
        Assert.Empty(supported.Except(tested));
        Assert.All(CreateAnalyzer().SupportedDiagnostics, d => Assert.Equal(DiagnosticSeverity.Error, d.DefaultSeverity));
    }

    [Fact]
    public void ValidInputsHaveNoDiagnostics()
    {
        var compilation = Run(CreateCompilation(TestInputs.All)).Output;
        var diagnostics = RunAnalyzer(compilation);
        Assert.True(diagnostics.IsEmpty, Describe(diagnostics));
    }

    private static void Verify(string id, string markup, params string[] messages)
    {
        var (body, expected) = Markup.Parse(markup);
        Assert.NotEmpty(expected);
        var source = Usings + body;
        var shift = Usings.Length;

        // Analyzers see the generated files too (as in a real build), so run the generator first.
        var run = Run(CreateCompilation(source));
        var actual = RunAnalyzer(run.Output)
            .Select(d => (d.Id, Span: d.Location.SourceSpan, Tree: d.Location.SourceTree?.FilePath, Text: d.GetMessage()))
            .OrderBy(d => d.Span.Start)
            .ToList();
        var expectedList = expected.Select(e => (e.Id, Span: new Microsoft.CodeAnalysis.Text.TextSpan(e.Span.Start + shift, e.Span.Length))).ToList();
        var actualList = actual.Select(d => (d.Id, d.Span)).ToList();
        Assert.True(expectedList.SequenceEqual(actualList),
            "expected:" + Environment.NewLine + string.Join(Environment.NewLine, expectedList.Select(e => $"  {e.Id} '{source.Substring(e.Span.Start, e.Span.Length)}'")) + Environment.NewLine +
            "actual:" + Environment.NewLine + string.Join(Environment.NewLine, actual.Select(d => $"  {d.Id} '{(d.Tree == "Input.cs" ? source.Substring(d.Span.Start, d.Span.Length) : d.Tree)}': {d.Text}")));
        Assert.All(actual, d => Assert.Equal("Input.cs", d.Tree));
        Assert.All(actual, d => Assert.False(string.IsNullOrWhiteSpace(d.Text)));
        for (int i = 0; i < messages.Length; i++)
            Assert.Equal(messages[i], actual[i].Text);

        // The generator must skip the broken type instead of emitting code that adds compiler errors.
        var compilerErrors = run.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(compilerErrors.Count == 0, "compiler errors next to " + id + ":" + Environment.NewLine + Describe(compilerErrors));

        // #pragma warning disable silences it (the diagnostics are reported by an analyzer, so this works for errors too).
        var suppressed = Run(CreateCompilation($"#pragma warning disable {id}\n" + source)).Output;
        var remaining = RunAnalyzer(suppressed).Where(d => d.Id == id).ToList();
        Assert.True(remaining.Count == 0, $"#pragma warning disable {id} did not suppress: " + Describe(remaining));
    }
}
