namespace Qcow2.Tool;

/// <summary><c>qcow2 amend -o lazy_refcounts=on|off [-f qcow2] FILE</c>, like <c>qemu-img amend</c>.</summary>
internal sealed class AmendCommand : ICommand
{
    public string Name => "amend";

    public string Summary => "change options of an existing image (qemu-img amend)";

    public string Usage =>
        """
        usage: qcow2 amend -o OPTIONS [-f qcow2] [-q] FILE

        Changes image options in place. Supported: lazy_refcounts=on|off (compat=1.1 images only).

          -o OPTIONS          k=v,k=v
          -f qcow2            the image format (only qcow2)
          -q                  quiet (accepted for compatibility)
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } = [CommonOptions.Format, CommonOptions.OptionList, CommonOptions.Quiet];

    private static readonly string[] QemuAmendable =
        ["compat", "backing_file", "backing_fmt", "cluster_size", "refcount_bits", "extended_l2", "compression_type", "size", "data_file", "data_file_raw", "encrypt.format"];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        CommonOptions.CheckFormat(args);
        if (!args.Has(CommonOptions.OptionList.Key))
            throw new UsageException("Must specify options (-o)");
        var options = CommonOptions.ParseOptionList(args.All(CommonOptions.OptionList.Key));
        if (options.Any(o => o.Key is "help" or "?"))
        {
            context.Out.Write("Amend options:\n  lazy_refcounts=<bool (on/off)> - Postpone refcount updates\n");
            return 0;
        }
        var path = CommonOptions.RequireFile(args, Name);
        bool? lazy = null;
        foreach (var (key, value) in options)
        {
            if (key == "lazy_refcounts")
                lazy = CommonOptions.ParseBool(key, value);
            else if (QemuAmendable.Contains(key))
                throw new ToolException($"Option '{key}' cannot be amended by this tool (only lazy_refcounts)");
            else
                throw new ToolException($"Invalid parameter '{key}'");
        }
        if (lazy is null)
            throw new UsageException("Must specify options (-o)");

        using var image = CommandLineImage.Open(path, writable: true);
        foreach (var warning in image.Warnings)
            context.Warn(warning);
        try
        {
            image.SetLazyRefcounts(lazy.Value);
        }
        catch (InvalidOperationException e) when (image.IsWritable)
        {
            // The image is writable, so the library refused the version: say it with qemu-img amend's words.
            throw new ToolException($"{e.Message.Split(" (")[0]} (use compat=1.1 or greater)");
        }
        return 0;
    }
}
