using System.Text;
using System.Text.Json;

namespace Qcow2.Tool;

/// <summary>
/// A tiny ordered value tree (like QEMU's QObject) so that one description of an image can be written both as JSON
/// and as qemu-img's indented human text. No reflection, so it is NativeAOT-safe.
/// </summary>
internal abstract class InfoValue
{
    public static implicit operator InfoValue(string value) => new InfoString(value);

    public static implicit operator InfoValue(long value) => new InfoNumber(value);

    public static implicit operator InfoValue(bool value) => new InfoBool(value);

    /// <summary>Writes the value; <paramref name="inArray"/> says it is a list element (raw values then need their own line break).</summary>
    public abstract void WriteJson(Utf8JsonWriter writer, bool inArray = false);

    /// <summary>
    /// Writes pre-formatted JSON. Utf8JsonWriter does not indent raw values that are array elements, so they get their line
    /// break and indentation here (the writer still adds the comma before them).
    /// </summary>
    protected static void WriteRaw(Utf8JsonWriter writer, string json, bool inArray) =>
        writer.WriteRawValue(inArray ? "\n" + new string(' ', writer.CurrentDepth * 4) + json : json, skipInputValidation: true);

    /// <summary>Serialises like qemu-img: pretty-printed with 4-space indentation and a final newline.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = true,
            IndentSize = 4,
            NewLine = "\n",
        }))
        {
            WriteJson(writer);
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}

internal sealed class InfoString(string value) : InfoValue
{
    public string Value { get; } = value;

    public override void WriteJson(Utf8JsonWriter writer, bool inArray = false) => WriteRaw(writer, Escape(Value), inArray);

    /// <summary>
    /// A JSON string literal escaped the way QEMU's JSON writer does: <c>\"</c>, <c>\\</c>, <c>\b \f \n \r \t</c>, and every other
    /// character below 0x20 or from 0x7F up as <c>\uXXXX</c> (upper-case hex, UTF-16 units); everything else is literal.
    /// </summary>
    internal static string Escape(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                default:
                    if (c < 0x20 || c >= 0x7F)
                        text.Append("\\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
                    else
                        text.Append(c);
                    break;
            }
        }
        return text.Append('"').ToString();
    }

    public override string ToString() => Value;
}

internal sealed class InfoNumber(long value) : InfoValue
{
    public long Value { get; } = value;

    public override void WriteJson(Utf8JsonWriter writer, bool inArray = false) => writer.WriteNumberValue(Value);

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

internal sealed class InfoUnsigned(ulong value) : InfoValue
{
    public ulong Value { get; } = value;

    public override void WriteJson(Utf8JsonWriter writer, bool inArray = false) => writer.WriteNumberValue(Value);

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

internal sealed class InfoBool(bool value) : InfoValue
{
    public bool Value { get; } = value;

    public override void WriteJson(Utf8JsonWriter writer, bool inArray = false) => writer.WriteBooleanValue(Value);

    public override string ToString() => Value ? "true" : "false";
}

internal sealed class InfoList : InfoValue
{
    public List<InfoValue> Items { get; } = [];

    public InfoList Add(InfoValue value)
    {
        Items.Add(value);
        return this;
    }

    public override void WriteJson(Utf8JsonWriter writer, bool inArray = false)
    {
        if (Items.Count == 0)
        {
            // qemu-img prints an empty list over two lines ("[", then "]" at the list's own indentation).
            WriteRaw(writer, "[\n" + new string(' ', writer.CurrentDepth * 4) + "]", inArray);
            return;
        }
        writer.WriteStartArray();
        foreach (var item in Items)
            item.WriteJson(writer, inArray: true);
        writer.WriteEndArray();
    }
}

internal sealed class InfoObject : InfoValue
{
    public List<KeyValuePair<string, InfoValue>> Members { get; } = [];

    public InfoObject Add(string key, InfoValue value)
    {
        Members.Add(new(key, value));
        return this;
    }

    public InfoValue? this[string key] => Members.FirstOrDefault(m => m.Key == key).Value;

    public override void WriteJson(Utf8JsonWriter writer, bool inArray = false)
    {
        writer.WriteStartObject();
        foreach (var (key, value) in Members)
        {
            writer.WritePropertyName(key);
            value.WriteJson(writer);
        }
        writer.WriteEndObject();
    }

    /// <summary>
    /// qemu's <c>dump_qobject</c> for "Format specific information": 4 spaces per level, dashes in keys become spaces,
    /// list items are <c>[i]:</c>, composite values go on the following lines.
    /// </summary>
    public void DumpHuman(StringBuilder text, int indentation)
    {
        foreach (var (key, value) in Members)
        {
            var composite = value is InfoObject or InfoList;
            text.Append(' ', indentation * 4).Append(key.Replace('-', ' ')).Append(':').Append(composite ? '\n' : ' ');
            DumpValue(text, indentation + 1, value);
        }
    }

    private static void DumpValue(StringBuilder text, int indentation, InfoValue value)
    {
        switch (value)
        {
            case InfoObject obj:
                obj.DumpHuman(text, indentation);
                break;
            case InfoList list:
                for (var i = 0; i < list.Items.Count; i++)
                {
                    var item = list.Items[i];
                    var composite = item is InfoObject or InfoList;
                    text.Append(' ', indentation * 4).Append('[').Append(i).Append("]:").Append(composite ? '\n' : ' ');
                    DumpValue(text, indentation + 1, item);
                }
                break;
            default:
                text.Append(value.ToString()).Append('\n');
                break;
        }
    }
}
