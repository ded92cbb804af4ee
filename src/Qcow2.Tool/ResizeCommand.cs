using System.Globalization;

namespace Qcow2.Tool;

/// <summary><c>qcow2 resize [--shrink] [--preallocation=off|metadata] [-f qcow2] [-q] FILE [+|-]SIZE</c>, like <c>qemu-img resize</c>.</summary>
internal sealed class ResizeCommand : ICommand
{
    private static readonly OptionSpec ShrinkOption = new("shrink", null, "shrink", false);
    private static readonly OptionSpec PreallocationOption = new("preallocation", null, "preallocation", true);

    private const string BadSize =
        "Parameter 'size' expects a non-negative number below 2^64 Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta- and exabytes, respectively.";

    public string Name => "resize";

    public string Summary => "grow or shrink the virtual disk (qemu-img resize)";

    public string Usage =>
        """
        usage: qcow2 resize [--shrink] [--preallocation=off|metadata] [-f qcow2] [-q] FILE [+|-]SIZE

        Changes the virtual size to SIZE, or by +SIZE / -SIZE. SIZE takes the suffixes K, M, G, T, P, E
        and must come to a multiple of 512. As in qemu-img, the size is always the last argument, so
        "-1G" needs no "--".

          --shrink            allow a smaller size; data past the new end is discarded
          --preallocation=M   off (default) or metadata: allocate L2 tables and zeroed clusters for the new area
          -f qcow2            the image format (only qcow2)
          -q                  quiet: do not print "Image resized."
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } = [CommonOptions.Format, CommonOptions.Quiet, ShrinkOption, PreallocationOption];

    /// <summary>qemu-img takes the size off the end before parsing options, so that "-1G" is not read as an option.</summary>
    public bool LastArgumentIsPositional => true;

    public int Execute(ParsedArguments args, CommandContext context)
    {
        CommonOptions.CheckFormat(args);
        var preallocation = args.Last(PreallocationOption.Key) switch
        {
            null or "off" => Qcow2Preallocation.Off,
            "metadata" => Qcow2Preallocation.Metadata,
            "falloc" or "full" => throw new ToolException($"Preallocation mode '{args.Last(PreallocationOption.Key)}' is not supported (only off and metadata)"),
            var other => throw new ToolException($"Invalid preallocation mode '{other}'"),
        };
        if (args.Positionals.Count != 2)
            throw new UsageException("Expecting image file name and size");
        var path = args.Positionals[0];
        var sizeText = args.Positionals[1];
        var relative = sizeText.StartsWith('+') ? 1 : sizeText.StartsWith('-') ? -1 : 0;
        long amount;
        try
        {
            amount = CommonOptions.TryParseSize(relative != 0 ? sizeText[1..] : sizeText) ?? throw new ToolException(BadSize);
        }
        catch (OverflowException)
        {
            throw new ToolException(BadSize);
        }

        using var image = CommandLineImage.Open(path, writable: true);
        foreach (var warning in image.Warnings)
            context.Warn(warning);
        var current = image.VirtualSize;
        var total = relative == 0 ? amount : (decimal)current + (decimal)relative * amount;
        // Past the range of a size the library takes: qemu-img's words for what the library refuses as not positive.
        if (total < long.MinValue || total > long.MaxValue)
            throw new ToolException("New image size must be positive");
        var newSize = (long)total;
        try
        {
            image.Resize(newSize, new Qcow2ResizeOptions { AllowShrink = args.Has(ShrinkOption.Key), Preallocation = preallocation });
        }
        catch (ArgumentException e)
        {
            throw new ToolException(e.ParamName == "options.AllowShrink" ? "Use the --shrink option to perform a shrink operation." : Cli.MessageOf(e));
        }
        if (!args.Has(CommonOptions.Quiet.Key))
            context.Out.Write(string.Create(CultureInfo.InvariantCulture, $"Image resized.\n"));
        return 0;
    }
}
