namespace Qcow2.Tool;

/// <summary>One option a verb accepts: a short and/or long name, and whether it takes a value.</summary>
/// <param name="Key">The name under which <see cref="ParsedArguments"/> stores it.</param>
/// <param name="Short">The single-letter form (<c>'f'</c> for <c>-f</c>), or null.</param>
/// <param name="Long">The long form without dashes (<c>"output"</c> for <c>--output</c>), or null.</param>
/// <param name="TakesValue">True for <c>-f qcow2</c> / <c>--output=json</c>; false for flags.</param>
internal sealed record OptionSpec(string Key, char? Short, string? Long, bool TakesValue)
{
    public string Display => Long is not null ? "--" + Long : "-" + Short;
}

/// <summary>The options and positional arguments of one verb.</summary>
internal sealed class ParsedArguments
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    public bool Help { get; set; }

    /// <summary>Every option given, in command-line order (for verbs whose actions apply in order, like <c>bitmap</c>).</summary>
    public List<KeyValuePair<string, string>> InOrder { get; } = [];

    internal void Add(string key, string value)
    {
        InOrder.Add(new(key, value));
        if (!_values.TryGetValue(key, out var list))
            _values[key] = list = [];
        list.Add(value);
    }

    /// <summary>True when the option was given at least once.</summary>
    public bool Has(string key) => _values.ContainsKey(key);

    /// <summary>Every value given for the option, in order.</summary>
    public IReadOnlyList<string> All(string key) => _values.TryGetValue(key, out var list) ? list : [];

    /// <summary>The last value given for the option (getopt semantics), or null.</summary>
    public string? Last(string key) => _values.TryGetValue(key, out var list) ? list[^1] : null;
}

/// <summary>
/// A small getopt-like parser: <c>-f qcow2</c>, <c>-fqcow2</c>, <c>--output=json</c>, <c>--output json</c>, grouped short flags
/// (<c>-qU</c>), <c>--</c> to end options; everything else is positional (options and positionals may be mixed).
/// </summary>
internal static class ArgParser
{
    public static readonly OptionSpec HelpOption = new("help", 'h', "help", false);

    public static ParsedArguments Parse(ReadOnlySpan<string> args, IReadOnlyList<OptionSpec> options)
    {
        var result = new ParsedArguments();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                for (i++; i < args.Length; i++)
                    result.Positionals.Add(args[i]);
                break;
            }
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                var eq = arg.IndexOf('=');
                var name = eq < 0 ? arg[2..] : arg[2..eq];
                var spec = Find(options, o => o.Long == name) ?? throw new UsageException($"unrecognized option '--{name}'");
                if (spec == HelpOption)
                {
                    result.Help = true;
                    continue;
                }
                if (!spec.TakesValue)
                {
                    if (eq >= 0)
                        throw new UsageException($"option '--{name}' doesn't allow an argument");
                    result.Add(spec.Key, "");
                    continue;
                }
                if (eq >= 0)
                    result.Add(spec.Key, arg[(eq + 1)..]);
                else if (i + 1 < args.Length)
                    result.Add(spec.Key, args[++i]);
                else
                    throw new UsageException($"option '--{name}' requires an argument");
                continue;
            }
            if (arg.Length > 1 && arg[0] == '-')
            {
                for (var j = 1; j < arg.Length; j++)
                {
                    var c = arg[j];
                    var spec = Find(options, o => o.Short == c) ?? throw new UsageException($"invalid option -- '{c}'");
                    if (spec == HelpOption)
                    {
                        result.Help = true;
                        continue;
                    }
                    if (!spec.TakesValue)
                    {
                        result.Add(spec.Key, "");
                        continue;
                    }
                    if (j + 1 < arg.Length)
                        result.Add(spec.Key, arg[(j + 1)..]);
                    else if (i + 1 < args.Length)
                        result.Add(spec.Key, args[++i]);
                    else
                        throw new UsageException($"option requires an argument -- '{c}'");
                    break;
                }
                continue;
            }
            result.Positionals.Add(arg);
        }
        return result;
    }

    private static OptionSpec? Find(IReadOnlyList<OptionSpec> options, Func<OptionSpec, bool> match)
    {
        if (match(HelpOption))
            return HelpOption;
        foreach (var option in options)
            if (match(option))
                return option;
        return null;
    }
}
