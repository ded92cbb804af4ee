using System.Globalization;
using System.Linq;

namespace BinaryFormat.Generator;

/// <summary>
/// The <c>View</c> of a layout with <c>[BinaryFormat(GenerateView = true)]</c>: a <c>ref struct</c> over the encoded bytes.
/// Its constructor checks only that the bytes are there (for a variable layout it finds where each tail member starts, in
/// one pass without allocating); each property decodes its member when read.
/// </summary>
internal static partial class Emitter
{
    private static void EmitView(CodeWriter w, Layout layout)
    {
        var type = layout.Type;
        var self = type.FullyQualifiedName;
        var name = layout.Name;
        var arguments = type.Arguments;
        var parameters = string.Concat(arguments.Select(a => $", {a.TypeName} {ParameterName(a)}"));
        var passed = string.Concat(arguments.Select(a => ", " + ParameterName(a)));
        w.Line();
        w.Line($"/// <summary>A <see cref=\"{type.Name}\"/> seen in place: each property decodes its field from the bytes when read; nothing is copied or allocated.</summary>");
        w.Line($"public readonly ref struct View : {Runtime}IBinaryView<View>");
        w.Open();
        w.Line($"private readonly {Span} source;");
        w.Line("private readonly long position;");
        foreach (var argument in arguments)
            w.Line($"private readonly {argument.TypeName} arg_{argument.Name};");
        var lazy = LazyList(layout);
        foreach (var field in layout.Tail)
            w.Line(field == lazy
                ? $"private readonly int at_{field.Name};"
                : $"private readonly int at_{field.Name}, length_{field.Name}{(IsViewTable(field) ? $", count_{field.Name}, stride_{field.Name}" : "")};");
        w.Line();
        w.Line("/// <summary>A view of the value at the start of <paramref name=\"source\"/>.</summary>");
        w.Line($"/// <exception cref=\"{Runtime}BinaryFormatException\">The input is too short for the value.</exception>");
        w.Line($"public View({Span} source) : this(source, 0) {{ }}");
        w.Line();
        if (arguments.Count > 0)
        {
            w.Line("/// <summary>A view of the value at the start of <paramref name=\"source\"/>, at absolute offset <paramref name=\"position\"/>, with default arguments.</summary>");
            w.Line($"/// <exception cref=\"{Runtime}BinaryFormatException\">The input is too short for the value.</exception>");
            w.Line($"public View({Span} source, long position) : this(source, position{string.Concat(arguments.Select(_ => ", default"))}) {{ }}");
            w.Line();
        }
        w.Line("/// <summary>A view of the value at the start of <paramref name=\"source\"/>, whose first byte is at absolute offset <paramref name=\"position\"/> (for errors).</summary>");
        w.Line($"/// <exception cref=\"{Runtime}BinaryFormatException\">The input is too short for the value.</exception>");
        w.Line($"public View({Span} source, long position{parameters})");
        w.Open();
        // A variable layout's walk reads its lengths through the view's own properties, so it sees the whole input first.
        if (type.IsVariable)
            w.Line("this.source = source;");
        w.Line("this.position = position;");
        foreach (var argument in arguments)
            w.Line($"arg_{argument.Name} = {ParameterName(argument)};");
        if (layout.HeadSize > 0)
        {
            w.Line($"if (source.Length < {layout.HeadSize})");
            w.Line($"    {Runtime}BinaryLayout.ThrowShortInput({name}, position, \"\", 0, {layout.HeadSize}, source.Length);");
        }
        if (type.IsVariable)
        {
            w.Line($"var offset = {layout.HeadSize};");
            foreach (var field in layout.Tail.Where(f => f != lazy))
                WhenPresent(w, field, "this", () => { w.Open(); EmitViewWalk(w, layout, field); w.Close(); }, () => w.Line($"at_{field.Name} = -1;"));
            if (lazy is null)
                w.Line("this.source = source.Slice(0, offset);");
            else
                w.Line($"at_{lazy.Name} = offset; // the list is walked by its enumerator, so the view keeps the rest of the input");
        }
        else
        {
            w.Line($"this.source = source.Slice(0, {type.Size});");
        }
        w.Close();
        w.Line();
        w.Line($"static View {Runtime}IBinaryView<View>.Create({Span} source, long position) => new(source, position);");
        w.Line();
        w.Line("/// <summary>The bytes of the value.</summary>");
        w.Line($"public {Span} EncodedBytes => {(lazy is null ? "source" : "source.Slice(0, EncodedSize)")};");
        w.Line();
        if (lazy is null)
        {
            w.Line("/// <summary>The number of bytes the value takes.</summary>");
            w.Line("public int EncodedSize => source.Length;");
        }
        else
        {
            w.Line($"/// <summary>The number of bytes the value takes: found by walking <see cref=\"{type.Name}.{lazy.Name}\"/> on each read.</summary>");
            w.Line($"/// <exception cref=\"{Runtime}BinaryFormatException\">An element of {lazy.Name} does not fit the input.</exception>");
            w.Line($"public int EncodedSize => at_{lazy.Name} + {lazy.Name}.EncodedLength;");
        }
        w.Line();
        w.Line("/// <summary>The absolute offset of the value's first byte.</summary>");
        w.Line("public long Position => position;");
        w.Line();
        var argumentValues = string.Concat(arguments.Select(a => ", arg_" + a.Name));
        w.Line($"/// <summary>Reads and validates the value, as <c>{type.Name}.Read</c> does.</summary>");
        w.Line($"/// <exception cref=\"{Runtime}BinaryFormatException\">The value breaks a rule.</exception>");
        w.Line($"public {self} Read() => {self}.Read(source, position{argumentValues});");
        w.Line();
        w.Line("/// <summary>Checks every rule <c>Read</c> checks (by reading the value: it allocates only what <c>Read</c> allocates); empty when the value is valid.</summary>");
        w.Line($"public __Sys.Collections.Generic.IReadOnlyList<{Runtime}BinaryFormatError> Validate() =>");
        w.Line($"    {self}.TryRead(source, position{argumentValues}, out _, out _, out var error) ? [] : [error];");
        foreach (var argument in arguments)
        {
            w.Line();
            w.Line($"/// <summary>The argument {argument.Name} the view was made with.</summary>");
            w.Line($"public {argument.TypeName} {argument.Name} => arg_{argument.Name};");
        }
        foreach (var field in type.Fields)
        {
            if (field == lazy)
                EmitLazyList(w, layout, field);
            else
                EmitViewProperty(w, layout, field);
        }
        foreach (var field in type.Fields.Where(f => f.FlagsKnown is not null))
        {
            var number = field.Kind == FieldKind.Enum ? $"(({field.IntegerType})this.{field.Name})" : "this." + field.Name;
            w.Line();
            w.Line($"/// <summary>The bits of <see cref=\"{type.Name}.{field.Name}\"/> outside the known mask 0x{field.FlagsKnown!.Value:X}.</summary>");
            w.Line($"public ulong {field.Name}UnknownBits => unchecked((ulong){number}) & ~0x{field.FlagsKnown.Value:X}UL;");
        }
        foreach (var bits in type.Bits)
        {
            w.Line();
            w.Line($"/// <summary><see cref=\"{type.Name}.{bits.Name}\"/>: bits {bits.FirstBit}..{bits.FirstBit + bits.Count - 1} of {bits.Container}.</summary>");
            w.Line($"public {bits.Rules.TypeName} {bits.Name} => {BitsValue(bits)};");
        }
        foreach (var checksum in type.Fields.Where(f => f.Checksum is not null))
        {
            string Start(string member) => ViewPosition(layout.ByName[member]);
            string End(string member) => layout.ByName[member] is var f && (f.IsDynamic || f.FollowsDynamic)
                ? $"at_{f.Name} + length_{f.Name}"
                : (f.Offset + f.Width).ToString(CultureInfo.InvariantCulture);
            w.Line();
            w.Line($"/// <summary>Whether <see cref=\"{type.Name}.{checksum.Name}\"/> is the checksum of the bytes it covers (computed on each call).</summary>");
            w.Line($"public bool {checksum.Name}Matches => {Runtime}BinaryChecksum.Compute({Algorithm(checksum)}, source, {Start(checksum.ChecksumFrom!)}, {End(checksum.ChecksumTo!)}, {Start(checksum.Name)}) == {checksum.Name};");
        }
        w.Close();
    }

    /// <summary>
    /// The layout's last member when it is a list of views that runs to a terminator element: its view walks it only when
    /// enumerated (once, each element checked as it is reached), not in the constructor.
    /// </summary>
    private static FieldModel? LazyList(Layout layout)
    {
        var fields = layout.Type.Fields;
        var last = fields.Count > 0 ? fields[fields.Count - 1] : null;
        return last is { UntilMember: not null, UntilValue: not null, CountMember: null, CountConstant: 0 } && IsViewTable(last)
            && last.Conditions.Count == 0 && last.Args.Count == 0
            && !fields.Any(f => f.ChecksumFrom == last.Name || f.ChecksumTo == last.Name)
            ? last : null;
    }

    /// <summary>The property of a lazy list (<see cref="LazyList"/>) and its type, whose enumerator does the walk.</summary>
    private static void EmitLazyList(CodeWriter w, Layout layout, FieldModel field)
    {
        var element = field.Element!;
        var list = field.Name + "Views";
        var elementView = element.TypeName + ".View";
        w.Line();
        w.Line($"/// <summary><see cref=\"{layout.Type.Name}.{field.Name}\"/>: views of the elements, found as <c>foreach</c> reaches them (an element that does not fit throws then).</summary>");
        w.Line($"public {list} {field.Name} => new(source, position, at_{field.Name});");
        w.Line();
        w.Line($"/// <summary>The elements of <see cref=\"{layout.Type.Name}.{field.Name}\"/>, up to the one whose {field.UntilMember} is {field.UntilValue}; each walk checks them again.</summary>");
        w.Line($"public readonly ref struct {list}");
        w.Open();
        w.Line($"private readonly {Span} source;");
        w.Line("private readonly long position;");
        w.Line("private readonly int start;");
        w.Line();
        w.Line($"internal {list}({Span} source, long position, int start)");
        w.Open();
        w.Line("this.source = source;");
        w.Line("this.position = position;");
        w.Line("this.start = start;");
        w.Close();
        w.Line();
        w.Line("/// <summary>The number of elements (walks them).</summary>");
        w.Line($"/// <exception cref=\"{Runtime}BinaryFormatException\">An element does not fit the input.</exception>");
        w.Line("public int Count");
        w.Open();
        w.Line("get");
        w.Open();
        w.Line("var count = 0;");
        w.Line("for (var walk = GetEnumerator(); walk.MoveNext();)");
        w.Line("    count++;");
        w.Line("return count;");
        w.Close();
        w.Close();
        w.Line();
        w.Line("internal int EncodedLength");
        w.Open();
        w.Line("get");
        w.Open();
        w.Line("var walk = GetEnumerator();");
        w.Line("while (walk.MoveNext())");
        w.Line("{");
        w.Line("}");
        w.Line("return walk.Offset - start;");
        w.Close();
        w.Close();
        w.Line();
        w.Line("/// <summary>Starts the walk (for <c>foreach</c>).</summary>");
        w.Line("public Enumerator GetEnumerator() => new(source, position, start);");
        w.Line();
        w.Line("/// <summary>Makes one view per <see cref=\"MoveNext\"/>, checking that it fits.</summary>");
        w.Line("public ref struct Enumerator");
        w.Open();
        w.Line($"private readonly {Span} source;");
        w.Line("private readonly long position;");
        w.Line("private int offset;");
        w.Line("private bool done;");
        w.Line($"private {elementView} current;");
        w.Line();
        w.Line($"internal Enumerator({Span} source, long position, int start)");
        w.Open();
        w.Line("this.source = source;");
        w.Line("this.position = position;");
        w.Line("offset = start;");
        w.Line("done = false;");
        w.Line("current = default;");
        w.Close();
        w.Line();
        w.Line("/// <summary>The view made by the last <see cref=\"MoveNext\"/>.</summary>");
        w.Line($"public readonly {elementView} Current => current;");
        w.Line();
        w.Line("internal readonly int Offset => offset;");
        w.Line();
        w.Line("/// <summary>Moves to the next element; false after the terminator.</summary>");
        w.Line($"/// <exception cref=\"{Runtime}BinaryFormatException\">The element does not fit the input.</exception>");
        w.Line("public bool MoveNext()");
        w.Open();
        w.Line("if (done)");
        w.Line("    return false;");
        w.Line($"current = new {elementView}(source.Slice(offset), position + offset);");
        w.Line("var size = current.EncodedSize;");
        w.Line("if (size == 0)");
        w.Line($"    {Runtime}BinaryLayout.ThrowShortInput({layout.Name}, position, {Literal(field.Name)}, offset, 1, 0);");
        w.Line($"done = unchecked((long)current.{field.UntilMember}) == {field.UntilValue!.Value.ToString(CultureInfo.InvariantCulture)}L;");
        w.Line("offset += size;");
        w.Line("return true;");
        w.Close();
        w.Close();
        w.Close();
    }

    /// <summary>An array the view shows as views of its elements (else as bytes).</summary>
    private static bool IsViewTable(FieldModel field) => field.Kind == FieldKind.Array && field.Element is { Kind: FieldKind.Nested, HasView: true };

    /// <summary>Where a member starts in the view's bytes: its constant offset, or the one the constructor found.</summary>
    private static string ViewPosition(FieldModel field) =>
        field.IsDynamic || field.FollowsDynamic ? "at_" + field.Name : field.Offset.ToString(CultureInfo.InvariantCulture);

    /// <summary>The value of a [Bits] property, from its container as decoded by the view or the layout (<c>this</c>).</summary>
    private static string BitsValue(BitsModel bits)
    {
        var field = bits.Rules;
        var raw = $"((unchecked((ulong)this.{bits.Container}) >> {bits.FirstBit}) & 0x{bits.Mask.ToString("X", CultureInfo.InvariantCulture)}UL)";
        return field.Kind switch
        {
            FieldKind.Boolean => $"{raw} != 0",
            FieldKind.Enum => $"({field.TypeName})unchecked(({field.IntegerType}){raw})",
            _ => $"unchecked(({field.IntegerType}){raw})",
        };
    }

    /// <summary>Finds where a tail member starts and how long it is (advancing <c>offset</c>), checking it fits; the caller opened a block.</summary>
    private static void EmitViewWalk(CodeWriter w, Layout layout, FieldModel field)
    {
        var member = Literal(field.Name);
        void Need(string needed, string neededForMessage)
        {
            w.Line($"if ({needed} > (ulong)(source.Length - offset))");
            w.Line($"    {Runtime}BinaryLayout.ThrowShortInput({layout.Name}, position, {member}, offset, {neededForMessage}, source.Length - offset);");
        }
        void Take(string length)
        {
            w.Line($"at_{field.Name} = offset;");
            w.Line($"length_{field.Name} = {length};");
            w.Line($"offset += length_{field.Name};");
        }
        string LengthSource() =>
            field.LengthMember is { } lengthMember ? $"unchecked((ulong)this.{lengthMember})"
            : field.PadTo > 0 ? $"(ulong){PaddingLength(field)}"
            : "(ulong)(source.Length - offset)";
        // The bytes one element (or nested value) at `offset` takes, measured by its view, or by reading it when it has none.
        string Measure(FieldModel nested, string args) => nested.HasView || args.Length > 0
            ? $"new {nested.TypeName}.View(source.Slice(offset), position + offset{args}).EncodedSize"
            : $"{Runtime}BinaryLayout.EncodedSizeOf<{nested.TypeName}>(source.Slice(offset), position + offset)";
        void Length()
        {
            w.Line($"var length = {LengthSource()};");
            if (!field.LengthToEnd)
                Need("length", $"{Runtime}BinaryLayout.Needed(length, 1)");
        }

        if (field.Width >= 0)
        {
            Need($"{field.Width}UL", field.Width.ToString(CultureInfo.InvariantCulture));
            Take(field.Width.ToString(CultureInfo.InvariantCulture));
            if (IsViewTable(field))
                w.Line($"(count_{field.Name}, stride_{field.Name}) = ({field.CountConstant}, {Stride(field, "this")});");
            return;
        }
        switch (field.Kind)
        {
            case FieldKind.String when field.NullTerminated:
                w.Line($"var end = {Runtime}BinaryText.IndexOfTerminator(source.Slice(offset), {Encoding(field)});");
                w.Line("if (end < 0)");
                w.Line($"    {Runtime}BinaryLayout.ThrowShortInput({layout.Name}, position, {member}, offset, source.Length - offset + {Runtime}BinaryText.TerminatorSize({Encoding(field)}), source.Length - offset);");
                Take("end");
                w.Line($"offset += {Runtime}BinaryText.TerminatorSize({Encoding(field)});");
                break;
            case FieldKind.Nested when field.LengthMember is null:
                var args = string.Concat(field.Args.Select((a, i) => $", unchecked(({field.ArgTypes[i]})this.{a})"));
                Take(Measure(field, args));
                break;
            case FieldKind.Switch when field.LengthMember is null:
                w.Line("int length;");
                w.Line($"switch (unchecked((long)this.{field.SwitchMember}))");
                w.Open();
                foreach (var @case in field.Cases)
                {
                    w.Line(@case.Value is { } tag ? $"case {tag.ToString(CultureInfo.InvariantCulture)}L:" : "default:");
                    w.Line($"    length = {Runtime}BinaryLayout.EncodedSizeOf<{@case.TypeName}>(source.Slice(offset), position + offset);");
                    w.Line("    break;");
                }
                if (field.Cases[field.Cases.Count - 1].Value is not null)
                {
                    // No case for the tag: where the member ends is unknown, so the view cannot be made.
                    var known = Literal(string.Join(", ", field.Cases.Select(c => c.Value!.Value.ToString(CultureInfo.InvariantCulture))));
                    var tag = $"{Runtime}BinaryFormatValidator.Format(unchecked((long)this.{field.SwitchMember}))";
                    w.Line("default:");
                    w.Line($"    {Runtime}BinaryLayout.ThrowInvalid({layout.Name}, position, {member}, offset, {Runtime}BinaryFormatRule.OneOf, {tag}, {known}, \"no case for {field.SwitchMember} = \" + {tag} + \" (known: \" + {known} + \")\");");
                    w.Line("    length = 0;");
                    w.Line("    break;");
                }
                w.Close();
                Take("length");
                break;
            case FieldKind.Array:
                EmitViewArrayWalk(w, layout, field, Need, Take, Length, Measure);
                break;
            default:
                // Byte blocks, strings and nested or switched members given a length.
                Length();
                Take("(int)length");
                break;
        }
    }

    private static void EmitViewArrayWalk(CodeWriter w, Layout layout, FieldModel field, System.Action<string, string> need,
        System.Action<string> take, System.Action length, System.Func<FieldModel, string, string> measure)
    {
        var element = field.Element!;
        var member = Literal(field.Name);
        var name = field.Name;
        void Table(string count, string stride)
        {
            if (IsViewTable(field))
                w.Line($"(count_{name}, stride_{name}) = ({count}, {stride});");
        }
        // Walks elements from `offset` while `condition` holds (and, with stopAtLast, up to the one that sets `last`),
        // counting them; measureOne declares the element's `size`.
        void Walk(string condition, System.Action measureOne, bool stopAtLast)
        {
            w.Line("var start = offset;");
            w.Line("var count = 0;");
            w.Line($"while ({condition})");
            w.Open();
            measureOne();
            w.Line("offset += size;");
            w.Line("count++;");
            if (stopAtLast)
            {
                w.Line("if (last)");
                w.Line("    break;");
            }
            w.Close();
            w.Line($"at_{name} = start;");
            w.Line($"length_{name} = offset - start;");
            Table("count", "0");
        }
        // An element of no bytes would repeat forever.
        void Size(string expression)
        {
            w.Line($"var size = {expression};");
            w.Line("if (size == 0)");
            w.Line($"    {Runtime}BinaryLayout.ThrowShortInput({layout.Name}, position, {member}, offset, 1, 0);");
        }

        if (field.CountMember is not null || field.CountConstant > 0)
        {
            w.Line($"var total = {(field.CountMember is { } countMember ? $"unchecked((ulong)this.{countMember})" : $"{field.CountConstant}UL")};");
            if (element.Width >= 0 || HasStride(field))
            {
                if (field.StrideMember is { } strideMember)
                {
                    var minimum = element.Width >= 0 ? element.Width : 1;
                    var shown = $"{Runtime}BinaryFormatValidator.Format(this.{strideMember})";
                    w.Line($"if (unchecked((ulong)this.{strideMember}) < {minimum} || unchecked((ulong)this.{strideMember}) > int.MaxValue)");
                    w.Line($"    {Runtime}BinaryLayout.ThrowInvalid({layout.Name}, position, {member}, offset, {Runtime}BinaryFormatRule.Length, {shown}, \"{minimum}..2147483647\", \"the stride \" + {shown} + \" ({strideMember}) is outside {minimum}..2147483647\");");
                }
                w.Line($"var stride = {Stride(field, "this")};");
                w.Line("if (total > (ulong)((source.Length - offset) / stride))");
                w.Line($"    {Runtime}BinaryLayout.ThrowShortInput({layout.Name}, position, {member}, offset, {Runtime}BinaryLayout.Needed(total, stride), source.Length - offset);");
                take("(int)total * stride");
                Table("(int)total", "stride");
                return;
            }
            // Each element takes at least one byte, which bounds the count before the walk.
            need("total", $"{Runtime}BinaryLayout.Needed(total, 1)");
            Walk("(ulong)count < total", () => Size(measure(element, "")), stopAtLast: false);
            return;
        }
        if (field.UntilValue is { } terminator)
        {
            var value = terminator.ToString(CultureInfo.InvariantCulture) + "L";
            Walk("true", () =>
            {
                if (field.UntilMember is { } untilMember)
                {
                    // Until a member of the element: the element's view finds its size and reads the member.
                    w.Line($"var item = new {element.TypeName}.View(source.Slice(offset), position + offset);");
                    w.Line($"var last = unchecked((long)item.{untilMember}) == {value};");
                    Size("item.EncodedSize");
                }
                else
                {
                    need($"{element.Width}UL", element.Width.ToString(CultureInfo.InvariantCulture));
                    w.Line($"var last = unchecked((long){ViewInteger(element, "offset")}) == {value};");
                    w.Line($"var size = {element.Width};");
                }
            }, stopAtLast: true);
            return;
        }
        // Repeated until a byte length is used up.
        length();
        if (element.Width >= 0)
        {
            take("(int)length");
            Table($"(int)length / {element.Width}", element.Width.ToString(CultureInfo.InvariantCulture));
            return;
        }
        w.Line("var end = offset + (int)length;");
        Walk("offset < end", () => Size(measure(element, "")), stopAtLast: false);
    }

    /// <summary>Decodes a scalar at <paramref name="at"/> of the view's bytes (byte order decided at run time from the view's own members).</summary>
    private static string ViewInteger(FieldModel field, string at)
    {
        if (field.Width == 1)
            return FromInteger(field, field.IntegerType == "sbyte" ? $"unchecked((sbyte)source[{at}])" : $"source[{at}]");
        var read = field.BigEndianWhen is { } big
            ? $"({string.Format(CultureInfo.InvariantCulture, big, "this")} ? {Primitives}Read{PrimitiveName(field)}BigEndian(source.Slice({at})) : {Primitives}Read{PrimitiveName(field)}LittleEndian(source.Slice({at})))"
            : $"{Primitives}Read{PrimitiveName(field)}{Endian(field)}(source.Slice({at}))";
        return FromInteger(field, read);
    }

    private static void EmitViewProperty(CodeWriter w, Layout layout, FieldModel field)
    {
        var dynamic = field.IsDynamic || field.FollowsDynamic;
        var at = ViewPosition(field);
        var length = dynamic ? "length_" + field.Name : field.Width.ToString(CultureInfo.InvariantCulture);
        var present = dynamic
            ? field.Conditions.Count > 0 ? $"at_{field.Name} >= 0" : null
            : field.Conditions.Count > 0 ? string.Join(" && ", field.Conditions.Select(c => Condition(c, "this"))) : null;
        string type, value, summary;
        var element = field.Element;
        if (field.IsScalar)
        {
            type = field.TypeName;
            value = ViewInteger(field, at);
            summary = "decoded when read";
            if (present is not null)
                value = $"{present} ? {value} : {FromInteger(field, Number(field.Otherwise, field))}";
            present = null;
        }
        else if (field.Kind == FieldKind.Nested && field.HasView)
        {
            type = field.TypeName + ".View";
            var args = string.Concat(field.Args.Select((a, i) => $", unchecked(({field.ArgTypes[i]})this.{a})"));
            value = $"new(source.Slice({at}, {length}), position + {at}{args})";
            summary = "a view of the nested value";
        }
        else if (field.Kind == FieldKind.Array && element!.Kind == FieldKind.Nested && element.HasView)
        {
            type = $"{Runtime}BinaryViews<{element.TypeName}.View>";
            var count = dynamic ? "count_" + field.Name : field.CountConstant.ToString(CultureInfo.InvariantCulture);
            var stride = dynamic ? "stride_" + field.Name : Stride(field, "this");
            value = $"new(source.Slice({at}, {length}), {count}, {stride}, position + {at})";
            summary = "views of the elements";
        }
        else
        {
            type = Span;
            value = $"source.Slice({at}, {length})";
            summary = field.Kind switch
            {
                FieldKind.String => "its encoded bytes (decode them with <c>Read()</c> or the encoding)",
                FieldKind.Array => "the encoded elements",
                FieldKind.Switch => "the encoded bytes of the case it holds",
                FieldKind.Nested => "the encoded nested value",
                _ => "its bytes",
            };
        }
        if (present is not null)
            value = $"{present} ? {value} : default";
        w.Line();
        w.Line($"/// <summary><see cref=\"{layout.Type.Name}.{field.Name}\"/>: {summary}.</summary>");
        w.Line($"public {type} {field.Name} => {value};");
    }
}
