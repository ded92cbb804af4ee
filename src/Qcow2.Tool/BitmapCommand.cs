using System.Globalization;
using System.Text;

namespace Qcow2.Tool;

/// <summary>
/// <c>qcow2 bitmap (--add [-g GRANULARITY] | --remove | --clear | --enable | --disable | --merge SOURCE [-b FILE [-F FMT]])… [-f qcow2] FILE NAME</c>,
/// like <c>qemu-img bitmap</c> (actions apply in command-line order), plus <c>--dump [--output=human|json] FILE NAME</c>, which
/// prints the dirty guest ranges (and takes <c>-U</c>, like qemu-img's read-only verbs).
/// </summary>
internal sealed class BitmapCommand : ICommand
{
    private static readonly OptionSpec AddOption = new("add", null, "add", false);
    private static readonly OptionSpec RemoveOption = new("remove", null, "remove", false);
    private static readonly OptionSpec ClearOption = new("clear", null, "clear", false);
    private static readonly OptionSpec EnableOption = new("enable", null, "enable", false);
    private static readonly OptionSpec DisableOption = new("disable", null, "disable", false);
    private static readonly OptionSpec MergeOption = new("merge", null, "merge", true);
    private static readonly OptionSpec DumpOption = new("dump", null, "dump", false);
    private static readonly OptionSpec GranularityOption = new("granularity", 'g', "granularity", true);
    private static readonly OptionSpec SourceFileOption = new("source-file", 'b', "source-file", true);
    private static readonly OptionSpec SourceFormatOption = new("source-format", 'F', "source-format", true);

    private static readonly HashSet<string> Actions =
        [AddOption.Key, RemoveOption.Key, ClearOption.Key, EnableOption.Key, DisableOption.Key, MergeOption.Key];

    public string Name => "bitmap";

    public string Summary => "add, remove, clear, enable, disable, merge or dump persistent dirty bitmaps (qemu-img bitmap)";

    public string Usage =>
        """
        usage: qcow2 bitmap (--add [-g GRANULARITY] | --remove | --clear | --enable | --disable |
                             --merge SOURCE [-b SOURCE_FILE [-F SOURCE_FMT]])... [-f qcow2] FILE NAME
               qcow2 bitmap --dump [--output=human|json] [-U] [-f qcow2] FILE NAME

        Changes the persistent dirty bitmap NAME of FILE. Several actions may be given; they are applied
        in order, like qemu-img (so --add --disable adds a disabled bitmap).

          --add               add an empty, enabled bitmap
          -g GRANULARITY      with --add: bytes per bit, a power of two from 512 to 2G (default: the cluster size)
          --remove            remove the bitmap (also an in-use one)
          --clear             clear every bit
          --enable            start tracking writes (set the auto flag)
          --disable           stop tracking writes (clear the auto flag)
          --merge SOURCE      OR the bits of bitmap SOURCE into NAME
          -b SOURCE_FILE      with --merge: SOURCE is in this image instead of FILE
          -F SOURCE_FMT       with -b: the source image format (only qcow2)
          --dump              print the dirty guest ranges of NAME, sorted and coalesced
          --output FMT        with --dump: human (default, "start=N length=N" per line) or json
          -U, --force-share   with --dump: read even while another process (a running VM) writes the image
          -f qcow2            the image format (only qcow2)
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        CommonOptions.Format, CommonOptions.Output, CommonOptions.ForceShare, AddOption, RemoveOption, ClearOption, EnableOption, DisableOption, MergeOption,
        DumpOption, GranularityOption, SourceFileOption, SourceFormatOption,
    ];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        CommonOptions.CheckFormat(args);
        var actions = args.InOrder.Where(o => Actions.Contains(o.Key)).ToList();
        var dump = args.Has(DumpOption.Key);
        if (dump)
            return Dump(args, actions.Count, context);
        if (args.Has(CommonOptions.Output.Key))
            throw new UsageException("--output is only supported with --dump");

        long? granularity = null;
        if (args.Last(GranularityOption.Key) is { } text)
            granularity = ParseGranularity(text);
        if (actions.Count == 0)
            throw new UsageException("Need at least one of --add, --remove, --clear, --enable, --disable, or --merge");
        if (granularity is not null && !args.Has(AddOption.Key))
            throw new UsageException("granularity only supported with --add");
        var sourceFile = args.Last(SourceFileOption.Key);
        var sourceFormat = args.Last(SourceFormatOption.Key);
        if (sourceFormat is not null && sourceFile is null)
            throw new UsageException("-F only supported with -b");
        if (sourceFile is not null && !args.Has(MergeOption.Key))
            throw new UsageException("Merge bitmap source file only supported with --merge");
        if (args.Positionals.Count != 2)
            throw new UsageException("Expecting filename and bitmap name");
        if (sourceFormat is not null && sourceFormat != "qcow2")
            throw new UsageException($"Unknown or unsupported file format: '{sourceFormat}' (only qcow2 is supported)");
        var (path, name) = (args.Positionals[0], args.Positionals[1]);

        // -U is refused here by the library, with qemu-img's words: it is for read-only opens.
        using var image = CommandLineImage.Open(path, writable: true, forceShare: args.Has(CommonOptions.ForceShare.Key));
        foreach (var warning in image.Warnings)
            context.Warn(warning);
        Qcow2Image? sourceImage = null;
        try
        {
            // All actions switch the header once, together: a crash leaves the old bitmaps or the final ones.
            image.ChangeBitmapsTogether(() =>
            {
                foreach (var (action, value) in actions)
                {
                    try
                    {
                        switch (action)
                        {
                            case "add":
                                image.AddBitmap(name, granularity);
                                break;
                            case "remove":
                                image.RemoveBitmap(name);
                                break;
                            case "clear":
                                image.ClearBitmap(name);
                                break;
                            case "enable":
                                image.EnableBitmap(name);
                                break;
                            case "disable":
                                image.DisableBitmap(name);
                                break;
                            case "merge":
                                if (sourceFile is not null && sourceImage is null && !SameFile(sourceFile, path))
                                    sourceImage = CommandLineImage.Open(sourceFile, writable: false);
                                image.MergeBitmap(name, sourceImage ?? image, value);
                                break;
                        }
                    }
                    catch (Exception e) when (e is Qcow2FormatException or ArgumentException)
                    {
                        throw new ToolException($"Operation {action} on bitmap {name} failed: {Cli.MessageOf(e)}");
                    }
                }
            });
        }
        finally
        {
            sourceImage?.Dispose();
        }
        return 0;
    }

    private int Dump(ParsedArguments args, int actionCount, CommandContext context)
    {
        if (actionCount > 0 || args.Has(GranularityOption.Key) || args.Has(SourceFileOption.Key) || args.Has(SourceFormatOption.Key))
            throw new UsageException("--dump cannot be combined with other actions or their options");
        var json = CommonOptions.IsJsonOutput(args);
        if (args.Positionals.Count != 2)
            throw new UsageException("Expecting filename and bitmap name");
        var (path, name) = (args.Positionals[0], args.Positionals[1]);
        using var image = CommandLineImage.Open(path, writable: false, forceShare: args.Has(CommonOptions.ForceShare.Key));
        foreach (var warning in image.Warnings)
            context.Warn(warning);
        IEnumerable<Qcow2GuestRange> ranges;
        try
        {
            ranges = image.GetDirtyRanges(name);
        }
        catch (Qcow2FormatException e)
        {
            throw new ToolException($"Operation dump on bitmap {name} failed: {e.Message}");
        }
        // Streamed: one line (or one JSON element) per range, never the whole list in memory.
        var output = new StringBuilder();
        if (json)
            context.Out.Write('[');
        var first = true;
        foreach (var range in ranges)
        {
            output.Clear();
            if (json)
                output.Append(first ? "\n" : ",\n").Append(CultureInfo.InvariantCulture, $"    {{ \"start\": {range.Start}, \"length\": {range.Length} }}");
            else
                output.Append(CultureInfo.InvariantCulture, $"start={range.Start} length={range.Length}\n");
            context.Out.Write(output.ToString());
            first = false;
        }
        if (json)
            context.Out.Write(first ? "]\n" : "\n]\n");
        return 0;
    }

    private static long? ParseGranularity(string text)
    {
        long? value;
        try
        {
            value = CommonOptions.TryParseSize(text);
        }
        catch (OverflowException)
        {
            value = null;
        }
        if (value is null)
            throw new UsageException(
                "Invalid granularity specified. You may use k, M, G, T, P or E suffixes for kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
        // qemu-img treats 0 as "not given": the default granularity.
        return value == 0 ? null : value;
    }

    private static bool SameFile(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);
}
