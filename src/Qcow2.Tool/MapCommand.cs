using System.Globalization;
using System.Text;

namespace Qcow2.Tool;

/// <summary>
/// <c>qcow2 map [--output=human|json] [--start-offset=N] [--max-length=N] [-f qcow2] [-U] FILE</c>, like <c>qemu-img map</c>:
/// the image's allocation (<see cref="Qcow2Image.GetAllocation"/>) through its backing chain, printed as qemu-img prints it.
/// </summary>
internal sealed class MapCommand : ICommand
{
    private static readonly OptionSpec StartOffsetOption = new("start-offset", null, "start-offset", true);
    private static readonly OptionSpec MaxLengthOption = new("max-length", null, "max-length", true);

    public string Name => "map";

    public string Summary => "show where the guest data lives (qemu-img map)";

    public string Usage =>
        """
        usage: qcow2 map [-f qcow2] [--output=human|json] [--start-offset=N] [--max-length=N] [-U] FILE

        Prints the allocation of the virtual disk: which ranges hold data, which read as zeros, in which
        image of the backing chain and at which offset of which file. The backing chain and the external
        data file are opened (plain paths only), as qemu-img opens them.

          --output=FMT        human (default: data ranges with their host offsets) or json (every range)
          --start-offset=N    start at guest offset N
          --max-length=N      stop after N bytes
          -f qcow2            the image format (only qcow2)
          -U, --force-share   open even while another process (a running VM) writes the image
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } =
        [CommonOptions.Format, CommonOptions.Output, CommonOptions.ForceShare, StartOffsetOption, MaxLengthOption];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        CommonOptions.CheckFormat(args);
        var json = CommonOptions.IsJsonOutput(args);
        var start = Offset(args.Last(StartOffsetOption.Key), "start offset") ?? 0;
        var maxLength = Offset(args.Last(MaxLengthOption.Key), "max length");
        var path = CommonOptions.RequireFile(args, Name);
        using var image = CommandLineImage.Open(path, ChainOptions(args.Has(CommonOptions.ForceShare.Key)));
        foreach (var warning in image.Warnings)
            context.Warn(warning);

        var end = maxLength is { } max ? Math.Min(image.VirtualSize, start + Math.Min(max, long.MaxValue - start)) : image.VirtualSize;
        var files = HostFileNames(image, path);
        var output = new StringBuilder();
        output.Append(json ? "[" : string.Create(CultureInfo.InvariantCulture, $"{"Offset",-16}{"Length",-16}{"Mapped to",-16}File\n"));
        var first = true;
        try
        {
            foreach (var extent in image.GetAllocation(Math.Min(start, image.VirtualSize), Math.Max(0, end - start)))
            {
                if (json)
                {
                    output.Append(first ? "" : ",\n").Append(Json(extent));
                }
                else if (extent.Kind == Qcow2ExtentKind.Data)
                {
                    if (extent.HostOffset is not { } host)
                        throw new ToolException("File contains external, encrypted or compressed clusters.");
                    output.Append(CultureInfo.InvariantCulture, $"{Hex(extent.Start),-16}{Hex(extent.Length),-16}{Hex(host),-16}{files[extent.Depth]}\n");
                }
                first = false;
            }
        }
        finally
        {
            // Like qemu-img, what was found before an error is still printed.
            if (json)
                output.Append("]\n");
            context.Out.Write(output.ToString());
        }
        return 0;
    }

    /// <summary>The chain and data file opened read-only, as qemu-img map opens them; <c>-U</c> shares them with a running VM.</summary>
    internal static Qcow2OpenOptions ChainOptions(bool forceShare) => new() { OpenBackingChain = true, OpenDataFile = true, ForceShare = forceShare };

    /// <summary>One entry as qemu-img prints it (field order and spacing included).</summary>
    private static string Json(Qcow2Extent e) => string.Create(CultureInfo.InvariantCulture,
        $"{{ \"start\": {e.Start}, \"length\": {e.Length}, \"depth\": {e.Depth}, \"present\": {Bool(e.Kind != Qcow2ExtentKind.Unallocated)}, \"zero\": {Bool(e.Kind != Qcow2ExtentKind.Data)}, \"data\": {Bool(e.Kind is Qcow2ExtentKind.Data or Qcow2ExtentKind.ZeroData)}{(e.HostOffset is { } host ? $", \"offset\": {host}" : "")}}}");

    private static string Bool(bool value) => value ? "true" : "false";

    /// <summary>C's <c>%#x</c>: 0 has no prefix.</summary>
    private static string Hex(long value) => value == 0 ? "0" : "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>
    /// The file holding the data of each depth, named as qemu-img names it: the path typed for the image, each backing file
    /// combined with the directory of the image naming it, and an external data file as the image names it.
    /// </summary>
    internal static List<string> HostFileNames(Qcow2Image image, string path)
    {
        var names = new List<string>();
        for (Qcow2Image? current = image; current is not null; current = current.BackingImage)
        {
            names.Add(current.DataFileName ?? path);
            if (current.BackingFileName is { } backing)
                path = CommonOptions.PathCombine(path, backing);
        }
        return names;
    }

    private static long? Offset(string? text, string what)
    {
        if (text is null)
            return null;
        long? value;
        try
        {
            value = CommonOptions.TryParseSize(text);
        }
        catch (OverflowException)
        {
            value = null;
        }
        return value ?? throw new UsageException($"Invalid {what} specified! You may use k, M, G, T, P or E suffixes for kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
    }
}
