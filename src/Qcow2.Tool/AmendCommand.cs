namespace Qcow2.Tool;

/// <summary><c>qcow2 amend -o compat=…,refcount_bits=…,lazy_refcounts=… [-f qcow2] FILE</c>, like <c>qemu-img amend</c>.</summary>
internal sealed class AmendCommand : ICommand
{
    public string Name => "amend";

    public string Summary => "change options of an existing image (qemu-img amend)";

    public string Usage =>
        """
        usage: qcow2 amend -o OPTIONS [-f qcow2] [-p] [-q] FILE

        Changes image options in place, as qemu-img amend does:
          compat=0.10|1.1     the format version (v2|v3 also accepted); a downgrade is refused when the image
                              uses what version 2 cannot hold (refcount_bits other than 16, extended L2 entries,
                              a data file, zstd compression, persistent bitmaps); zero clusters are expanded
          lazy_refcounts=on|off  compat=1.1 images only
          refcount_bits=1|2|4|8|16|32|64   the refcount width (compat=1.1 only); refused when a refcount
                              does not fit the new width
          backing_file, backing_fmt   accepted only unchanged (qemu-img: use rebase)

          -o OPTIONS          k=v,k=v
          -f qcow2            the image format (only qcow2)
          -p                  show progress
          -q                  quiet
          -h, --help          show this help

        """;

    private static readonly OptionSpec ProgressOption = new("progress", 'p', null, false);

    public IReadOnlyList<OptionSpec> Options { get; } = [CommonOptions.Format, CommonOptions.OptionList, CommonOptions.Quiet, ProgressOption];

    /// <summary>Options qemu-img accepts only when creating an image.</summary>
    private static readonly string[] CreationOnly =
        ["cluster_size", "extended_l2", "compression_type", "encrypt.format", "encryption", "preallocation", "nocow"];

    /// <summary>Options qemu-img amends that this tool does not (yet).</summary>
    private static readonly string[] NotAmendedHere = ["size", "data_file", "data_file_raw"];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        CommonOptions.CheckFormat(args);
        if (!args.Has(CommonOptions.OptionList.Key))
            throw new UsageException("Must specify options (-o)");
        var options = CommonOptions.ParseOptionList(args.All(CommonOptions.OptionList.Key));
        if (options.Any(o => o.Key is "help" or "?"))
        {
            context.Out.Write("Amend options:\n  compat=<str> - Compatibility level (v2 [0.10] or v3 [1.1])\n  lazy_refcounts=<bool (on/off)> - Postpone refcount updates\n  refcount_bits=<num> - Width of a reference count entry in bits\n");
            return 0;
        }
        var path = CommonOptions.RequireFile(args, Name);
        bool? lazy = null;
        int? version = null;
        string? backingFile = null, backingFormat = null;
        int? refcountBits = null;
        foreach (var (key, value) in options)
        {
            switch (key)
            {
                case "lazy_refcounts":
                    lazy = CommonOptions.ParseBool(key, value);
                    break;
                case "compat":
                    version = value switch
                    {
                        "0.10" or "v2" => 2,
                        "1.1" or "v3" => 3,
                        _ => throw new ToolException($"Unknown compatibility level {value}"),
                    };
                    break;
                case "backing_file":
                    backingFile = value;
                    break;
                case "backing_fmt":
                    backingFormat = value;
                    break;
                case "refcount_bits":
                    refcountBits = int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bits) && bits is > 0 and <= 64 && (bits & (bits - 1)) == 0
                        ? bits
                        : throw new ToolException("Refcount width must be a power of two and may not exceed 64 bits");
                    break;
                case var creation when CreationOnly.Contains(creation):
                    throw new ToolException($"Invalid parameter '{key}'\nThis option is only supported for image creation");
                case var other when NotAmendedHere.Contains(other):
                    throw new ToolException($"Option '{key}' cannot be amended by this tool");
                default:
                    throw new ToolException($"Invalid parameter '{key}'");
            }
        }

        using var image = CommandLineImage.Open(path, writable: true);
        foreach (var warning in image.Warnings)
            context.Warn(warning);
        var targetVersion = version ?? image.Version;
        if ((backingFile is not null || backingFormat is not null) && (backingFile != image.BackingFileName || backingFormat != image.BackingFormat))
            throw new ToolException("Cannot amend the backing file\nYou can use 'qemu-img rebase' instead.");
        if (refcountBits is { } width && width != 16 && targetVersion < 3)
            throw new ToolException("Refcount widths other than 16 bits require compatibility level 1.1 or above (use compat=1.1 or greater)");
        if (lazy == true && targetVersion < 3)
            throw new ToolException("Lazy refcounts only supported with compatibility level 1.1 and above (use compat=1.1 or greater)");

        using var progress = args.Has(ProgressOption.Key) && !args.Has(CommonOptions.Quiet.Key) ? new TerminalProgress(context.Out, enabled: true) : null;
        progress?.Report(0);
        try
        {
            // QEMU's order: upgrade first, then the refcount width and the features, and a downgrade last.
            if (targetVersion > image.Version)
                image.SetVersion(targetVersion);
            if (refcountBits is { } bits)
                image.SetRefcountBits(bits);
            if (lazy is { } enabled)
                image.SetLazyRefcounts(enabled);
            if (targetVersion < image.Version)
                image.SetVersion(targetVersion);
        }
        catch (InvalidOperationException e) when (image.IsWritable)
        {
            throw new ToolException(e.Message);
        }
        progress?.Finish();
        return 0;
    }
}
