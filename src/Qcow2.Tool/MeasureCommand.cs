using System.Globalization;

namespace Qcow2.Tool;

/// <summary>
/// <c>qcow2 measure [--output=human|json] [-O qcow2|raw] [-o OPTIONS] [-f FMT] (--size N | SRC)</c>, like <c>qemu-img measure</c>
/// (<see cref="Qcow2Converter.Measure"/>).
/// </summary>
internal sealed class MeasureCommand : ICommand
{
    private static readonly OptionSpec OutputFormat = new("output-format", 'O', null, true);
    private static readonly OptionSpec Size = new("size", null, "size", true);

    public string Name => "measure";

    public string Summary => "compute the size a new image needs (qemu-img measure)";

    public string Usage =>
        """
        usage: qcow2 measure [--output=human|json] [-O qcow2|raw] [-o OPTIONS] [-f FMT] [-U] (--size N | SRC)

        Prints the bytes an image of format -O needs for the data of SRC (or for an empty disk of N bytes),
        and with every cluster allocated; for a qcow2 source also what its bitmaps need.

          --size N            measure an empty disk of N bytes instead of SRC
          -O FMT              the format to measure for: raw (default) or qcow2
          -o OPTIONS          qcow2 creation options (cluster_size, compat, extended_l2, refcount_bits, ...)
          -f FMT              the format of SRC: qcow2 or raw (default: probed)
          --output=FMT        human (default) or json
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } =
        [CommonOptions.Format, OutputFormat, CommonOptions.OptionList, CommonOptions.Output, Size, CommonOptions.ForceShare];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        var json = CommonOptions.IsJsonOutput(args);
        var sizeText = args.Last(Size.Key);
        if (sizeText is not null && args.Positionals.Count > 0)
            throw new UsageException("--size N cannot be used together with a filename.");
        if (sizeText is null && args.Positionals.Count == 0)
            throw new UsageException("Either --size N or one filename must be specified.");
        if (args.Positionals.Count > 1)
            throw new UsageException("At most one filename argument is allowed.");
        var size = sizeText is null ? 0 : CommonOptions.ParseImageSize(sizeText);
        var format = args.Last(OutputFormat.Key) ?? "raw";
        using var source = args.Positionals.Count == 1 ? OpenedDisk.Open(args.Positionals[0], args.Last(CommonOptions.Format.Key), args.Has(CommonOptions.ForceShare.Key)) : null;
        Qcow2MeasureResult result;
        switch (format)
        {
            case "raw":
                var length = source?.Disk.Length ?? Align512(size);
                result = new Qcow2MeasureResult(length, length, null);
                break;
            case "qcow2":
                var options = CreateCommand.ParseImageOptions("", CommonOptions.ParseOptionList(args.All(CommonOptions.OptionList.Key)));
                try
                {
                    result = Qcow2Converter.Measure(source?.Disk, size, options);
                }
                catch (ArgumentException e)
                {
                    throw new ToolException(CreateCommand.QemuWords(e));
                }
                break;
            default:
                throw new UsageException($"Unknown file format '{format}'");
        }
        var text = json
            ? "{\n" + (result.Bitmaps is { } b ? $"    \"bitmaps\": {b},\n" : "") + $"    \"required\": {result.Required},\n    \"fully-allocated\": {result.FullyAllocated}\n}}\n"
            : $"required size: {result.Required}\nfully allocated size: {result.FullyAllocated}\n" + (result.Bitmaps is { } bm ? $"bitmaps size: {bm}\n" : "");
        context.Out.Write(string.Create(CultureInfo.InvariantCulture, $"{text}"));
        return 0;
    }

    private static long Align512(long size) => (size + 511) / 512 * 512;
}
