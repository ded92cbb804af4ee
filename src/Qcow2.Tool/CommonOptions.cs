using System.Globalization;

namespace Qcow2.Tool;

/// <summary>Options and value syntaxes shared by the verbs, following qemu-img.</summary>
internal static class CommonOptions
{
    public static readonly OptionSpec Format = new("format", 'f', null, true);
    public static readonly OptionSpec Output = new("output", null, "output", true);
    public static readonly OptionSpec OptionList = new("options", 'o', null, true);
    public static readonly OptionSpec Quiet = new("quiet", 'q', null, false);
    public static readonly OptionSpec ForceShare = new("force-share", 'U', "force-share", false);

    /// <summary>Accepts <c>-f qcow2</c> (the only format) and rejects anything else.</summary>
    public static void CheckFormat(ParsedArguments args)
    {
        var format = args.Last(Format.Key);
        if (format is not null && format != "qcow2")
            throw new UsageException($"Unknown or unsupported file format: '{format}' (only qcow2 is supported)");
    }

    /// <summary><c>--output=human|json</c>; true for JSON.</summary>
    public static bool IsJsonOutput(ParsedArguments args) => args.Last(Output.Key) switch
    {
        null or "human" => false,
        "json" => true,
        _ => throw new UsageException("--output must be used with human or json as argument."),
    };

    /// <summary>The first positional (FILE) when there are 1..<paramref name="maxPositionals"/> of them, or a usage error.</summary>
    public static string RequireFile(ParsedArguments args, string verb, int maxPositionals = 1)
    {
        if (args.Positionals.Count == 0)
            throw new UsageException($"Expecting one image file name; try 'qcow2 {verb} --help'");
        if (args.Positionals.Count > maxPositionals)
            throw new UsageException($"Unexpected argument '{args.Positionals[maxPositionals]}'; try 'qcow2 {verb} --help'");
        return args.Positionals[0];
    }

    /// <summary>
    /// Parses the <c>-o</c> values (qemu QemuOpts syntax): <c>k=v,k=v</c>, a doubled comma is a literal comma, a bare
    /// <c>k</c> means <c>k=on</c>. Several <c>-o</c> are merged; a later key wins. Keys keep first-seen order.
    /// </summary>
    public static List<KeyValuePair<string, string>> ParseOptionList(IReadOnlyList<string> values)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var value in values)
        {
            foreach (var item in SplitOnSingleCommas(value))
            {
                if (item.Length == 0)
                    continue;
                var eq = item.IndexOf('=');
                var key = eq < 0 ? item : item[..eq];
                var val = eq < 0 ? "on" : item[(eq + 1)..];
                if (key.Length == 0)
                    throw new UsageException($"Invalid option list '{value}': empty parameter name");
                var existing = result.FindIndex(p => p.Key == key);
                if (existing >= 0)
                    result[existing] = new(key, val);
                else
                    result.Add(new(key, val));
            }
        }
        return result;
    }

    private static IEnumerable<string> SplitOnSingleCommas(string text)
    {
        var current = new System.Text.StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == ',')
            {
                if (i + 1 < text.Length && text[i + 1] == ',')
                {
                    current.Append(',');
                    i++;
                    continue;
                }
                yield return current.ToString();
                current.Clear();
                continue;
            }
            current.Append(text[i]);
        }
        yield return current.ToString();
    }

    /// <summary>qemu's boolean option syntax: on/off (also yes/no, true/false).</summary>
    public static bool ParseBool(string key, string value) => value switch
    {
        "on" or "yes" or "true" or "y" => true,
        "off" or "no" or "false" or "n" => false,
        _ => throw new UsageException($"Parameter '{key}' expects 'on' or 'off'"),
    };

    /// <summary>
    /// Parses a size like qemu's <c>qemu_strtosz</c>: plain bytes (<c>1048576</c>, <c>0x100000</c>), or a decimal number
    /// (fractions allowed) with a suffix B, K, M, G, T, P or E (case-insensitive, powers of 1024). Returns null if invalid;
    /// throws <see cref="OverflowException"/> when the value does not fit in a signed 64-bit number.
    /// </summary>
    public static long? TryParseSize(string text)
    {
        var s = text.Trim();
        if (s.Length == 0)
            return null;
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            if (!ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
                return null;
            return hex > long.MaxValue ? throw new OverflowException() : (long)hex;
        }
        var multiplier = 1m;
        var last = char.ToUpperInvariant(s[^1]);
        var suffixIndex = "BKMGTPE".IndexOf(last);
        if (suffixIndex >= 0)
        {
            s = s[..^1];
            for (var i = 0; i < suffixIndex; i++)
                multiplier *= 1024;
        }
        if (s.Length == 0 || !s.All(c => char.IsAsciiDigit(c) || c == '.') || s.Count(c => c == '.') > 1 || s[0] == '.' || s[^1] == '.')
            return null;
        if (s.Contains('.') && suffixIndex < 0)
            return null; // qemu: a fraction needs a unit
        if (!decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            throw new OverflowException();
        // number * multiplier throws OverflowException past decimal's range, as documented above.
        var bytes = decimal.Truncate(number * multiplier);
        if (bytes > long.MaxValue)
            throw new OverflowException();
        return (long)bytes;
    }

    /// <summary>Like <see cref="TryParseSize"/> but throws qemu-img's messages for the image size argument.</summary>
    public static long ParseImageSize(string text)
    {
        long? size;
        try
        {
            size = TryParseSize(text);
        }
        catch (OverflowException)
        {
            throw new UsageException("Invalid image size specified. Must be between 0 and 9223372036854775807.");
        }
        return size ?? throw new UsageException(
            "Invalid image size specified. You may use k, M, G, T, P or E suffixes for kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
    }

    /// <summary>
    /// qemu's <c>size_to_str</c>: <c>"%0.3g %sB"</c> with binary prefixes, switching prefix once the value reaches 1000 units
    /// (<c>220 KiB</c>, <c>1 GiB</c>, <c>1.5 MiB</c>, <c>0 B</c>).
    /// </summary>
    public static string SizeToString(long value)
    {
        string[] prefixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
        var v = (ulong)value;
        // frexp(val / (1000.0 / 1024.0), &e); i = (e - 1) / 10
        var scaled = v / (1000.0 / 1024.0);
        var exponent = scaled == 0 ? 0 : (int)Math.Floor(Math.Log2(scaled)) + 1;
        var i = Math.Max(0, (exponent - 1) / 10);
        if (i >= prefixes.Length)
            i = prefixes.Length - 1;
        var div = (double)(1UL << (i * 10));
        return FormatG3(v / div) + " " + prefixes[i] + "B";
    }

    /// <summary>C's <c>%0.3g</c> for non-negative values.</summary>
    internal static string FormatG3(double value)
    {
        var text = value.ToString("G3", CultureInfo.InvariantCulture);
        var e = text.IndexOf('E');
        if (e < 0)
            return text;
        // .NET writes 1E+03; C writes 1e+03.
        var mantissa = text[..e];
        var sign = text[e + 1];
        var digits = text[(e + 2)..].TrimStart('0').PadLeft(2, '0');
        return $"{mantissa}e{sign}{digits}";
    }

    /// <summary>
    /// qemu's <c>path_combine</c>: a relative <paramref name="name"/> is taken relative to the directory part of
    /// <paramref name="baseFile"/> as the user spelled it (no normalisation), an absolute one is kept.
    /// </summary>
    public static string PathCombine(string baseFile, string name)
    {
        if (name.StartsWith('/'))
            return name;
        var slash = baseFile.LastIndexOf('/');
        return slash < 0 ? name : baseFile[..(slash + 1)] + name;
    }
}
