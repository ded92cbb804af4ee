using System.Globalization;
using System.Text;

namespace Qcow2.Tool;

/// <summary><c>qcow2 create [-f qcow2] [-o OPTIONS] [-b BACKING -F FMT] [-u] FILE [SIZE]</c>, like <c>qemu-img create</c>.</summary>
internal sealed class CreateCommand : ICommand
{
    public string Name => "create";

    public string Summary => "create a new qcow2 image (qemu-img create)";

    public string Usage =>
        """
        usage: qcow2 create [-f qcow2] [-o OPTIONS] [-b BACKING_FILE -F BACKING_FMT] [-u] [-q] FILE [SIZE]

        Creates a qcow2 image. SIZE is in bytes, or with a suffix K, M, G, T, P, E (powers of 1024, e.g. 1.5G).
        SIZE may be left out when a backing file is given: the backing file's size is used.

        OPTIONS (-o k=v,k=v; "-o help" lists them):
          compat=0.10|1.1|v2|v3        version 2 or 3 (default 1.1)
          cluster_size=SIZE            512 B .. 2 MiB, a power of two (default 64k)
          refcount_bits=1|2|4|8|16|32|64  (default 16; v2 only 16)
          lazy_refcounts=on|off        (v3 only)
          extended_l2=on|off           (v3, cluster_size >= 16k)
          compression_type=zlib|zstd   (zstd needs v3)
          backing_file=NAME            same as -b
          backing_fmt=FMT              same as -F (required with a backing file)
          size=SIZE                    same as the SIZE argument

          -f qcow2            the image format (only qcow2)
          -u                  do not check that the backing file exists
          -q                  quiet: do not print the "Formatting" line
          -h, --help          show this help

        """;

    private static readonly OptionSpec Backing = new("backing", 'b', null, true);
    private static readonly OptionSpec BackingFormat = new("backing-format", 'F', null, true);
    private static readonly OptionSpec Unsafe = new("unsafe", 'u', null, false);

    public IReadOnlyList<OptionSpec> Options { get; } =
        [CommonOptions.Format, CommonOptions.OptionList, Backing, BackingFormat, Unsafe, CommonOptions.Quiet];

    private static readonly string[] Supported =
        ["compat", "cluster_size", "refcount_bits", "lazy_refcounts", "extended_l2", "compression_type", "backing_file", "backing_fmt", "size"];

    private static readonly string[] KnownButUnsupported =
        ["data_file", "data_file_raw", "encryption", "encrypt.format", "encrypt.key-secret", "preallocation", "nocow"];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        CommonOptions.CheckFormat(args);
        var options = CommonOptions.ParseOptionList(args.All(CommonOptions.OptionList.Key));
        if (options.Any(o => o.Key is "help" or "?"))
        {
            context.Out.Write(OptionHelp);
            return 0;
        }
        if (args.Positionals.Count == 0)
            throw new UsageException("Expecting image file name; try 'qcow2 create --help'");
        if (args.Positionals.Count > 2)
            throw new UsageException($"Unexpected argument '{args.Positionals[2]}'; try 'qcow2 create --help'");
        var file = args.Positionals[0];

        // -b/-F are shorthands for the -o options; like qemu-img, they are added to the option list.
        if (args.Last(Backing.Key) is { } b)
            Set(options, "backing_file", b);
        if (args.Last(BackingFormat.Key) is { } f)
            Set(options, "backing_fmt", f);

        string? Get(string key) => options.FirstOrDefault(o => o.Key == key).Value;

        foreach (var (key, _) in options)
        {
            if (KnownButUnsupported.Contains(key))
                throw new ToolException($"{file}: Option '{key}' is not supported by this tool");
            if (!Supported.Contains(key))
                throw new ToolException($"{file}: Invalid parameter '{key}'");
        }

        long? size = args.Positionals.Count > 1 ? CommonOptions.ParseImageSize(args.Positionals[1]) : null;
        if (size is null && Get("size") is { } sizeOption)
            size = ParseSizeOption(file, "size", sizeOption);

        var compatText = Get("compat");
        var version = compatText switch
        {
            null or "1.1" or "v3" => 3,
            "0.10" or "v2" => 2,
            _ => throw new ToolException($"{file}: Parameter 'version' does not accept value '{compatText}'"),
        };
        var clusterSize = Get("cluster_size") is { } cs ? ParseSizeOption(file, "cluster_size", cs) : 65536L;
        var refcountBits = Get("refcount_bits") is { } rb ? ParseNumber(file, "refcount_bits", rb) : 16;
        var lazy = Get("lazy_refcounts") is { } lr && CommonOptions.ParseBool("lazy_refcounts", lr);
        var extendedL2 = Get("extended_l2") is { } el && CommonOptions.ParseBool("extended_l2", el);
        var compressionText = Get("compression_type") ?? "zlib";
        var compression = compressionText switch
        {
            "zlib" => Qcow2CompressionType.Zlib,
            "zstd" => Qcow2CompressionType.Zstd,
            _ => throw new ToolException($"{file}: Parameter 'compression-type' does not accept value '{compressionText}'"),
        };
        var backingFile = Get("backing_file");
        var backingFormat = Get("backing_fmt");

        // The option rules are the library's (Qcow2Image.Create); this one is qemu-img's own, for its command line.
        if (backingFile is not null && backingFormat is null)
            throw new ToolException($"{file}: Backing file specified without backing format");

        if (backingFile is not null && (!args.Has(Unsafe.Key) || size is null))
        {
            var backingSize = BackingSize(CommonOptions.PathCombine(file, backingFile), backingFormat!);
            size ??= backingSize;
        }
        if (size is null)
            throw new UsageException("Expecting image size; try 'qcow2 create --help'");

        var createOptions = new Qcow2CreateOptions
        {
            ClusterSize = (int)Math.Min(clusterSize, int.MaxValue), // the library refuses what does not fit
            Version = version,
            RefcountBits = refcountBits,
            LazyRefcounts = lazy,
            BackingFile = backingFile,
            BackingFormat = backingFormat,
            ExtendedL2 = extendedL2,
            CompressionType = compression,
        };
        try
        {
            using var image = Qcow2Image.Create(file, size.Value, createOptions);
        }
        catch (Exception e) when (e is Qcow2FormatException or BinaryFormat.BinaryFormatException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ToolException($"{file}: {QemuWords(e)}");
        }
        // qemu-img prints this line before it creates; we print it once the library has accepted the options, so that a
        // refusal is one line on stderr and nothing on stdout.
        if (!args.Has(CommonOptions.Quiet.Key))
        {
            var line = new StringBuilder();
            line.Append(CultureInfo.InvariantCulture, $"Formatting '{file}', fmt=qcow2 cluster_size={clusterSize} extended_l2={OnOff(extendedL2)} ");
            line.Append(CultureInfo.InvariantCulture, $"compression_type={compressionText} size={size}");
            if (compatText is not null)
                line.Append(" compat=").Append(compatText);
            if (backingFile is not null)
                line.Append(" backing_file=").Append(backingFile);
            if (backingFormat is not null)
                line.Append(" backing_fmt=").Append(backingFormat);
            line.Append(CultureInfo.InvariantCulture, $" lazy_refcounts={OnOff(lazy)} refcount_bits={refcountBits}");
            context.Out.WriteLine(line.ToString());
        }
        return 0;
    }

    private static string OnOff(bool value) => value ? "on" : "off";

    /// <summary>
    /// qemu-img's words for a refused option: the library's message without its part about <see cref="Qcow2CreateOptions"/>,
    /// and with the hint qemu-img gives about its <c>-o</c> options.
    /// </summary>
    private static string QemuWords(Exception e)
    {
        var message = Cli.MessageOf(e);
        if (e is ArgumentException && message.IndexOf(" (Qcow2CreateOptions.", StringComparison.Ordinal) is var detail and >= 0)
            message = message[..detail];
        return message.Contains("compatibility level 1.1", StringComparison.Ordinal) ? message + " (use version=v3 or greater)" : message;
    }

    private static void Set(List<KeyValuePair<string, string>> options, string key, string value)
    {
        var index = options.FindIndex(o => o.Key == key);
        if (index >= 0)
            options[index] = new(key, value);
        else
            options.Add(new(key, value));
    }

    private static long ParseSizeOption(string file, string key, string value)
    {
        long? parsed;
        try
        {
            parsed = CommonOptions.TryParseSize(value);
        }
        catch (OverflowException)
        {
            parsed = null;
        }
        if (parsed is null)
            throw new ToolException($"{file}: Parameter '{key}' expects a non-negative number below 2^64");
        return parsed.Value;
    }

    private static int ParseNumber(string file, string key, string value)
    {
        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            throw new ToolException($"{file}: Parameter '{key}' expects a number");
        return number > int.MaxValue ? int.MaxValue : (int)number;
    }

    /// <summary>Opens the backing file like qemu-img does (it must exist) and returns its virtual size.</summary>
    private static long BackingSize(string path, string format)
    {
        if (!File.Exists(path))
            throw new ToolException($"Could not open '{path}': No such file or directory; could not open backing image");
        switch (format)
        {
            case "qcow2":
                // Like qemu-img create, read the size even while a VM writes the backing image: only its size is used.
                using (var backing = CommandLineImage.Open(path, writable: false, forceShare: true))
                    return backing.VirtualSize;
            case "raw":
                return new FileInfo(path).Length;
            default:
                throw new ToolException($"Backing file format '{format}' is not supported (qcow2 or raw); use -u and give a size");
        }
    }

    private const string OptionHelp =
        """
        Supported options:
          backing_file=<str>     - File name of a base image
          backing_fmt=<str>      - Image format of the base image
          cluster_size=<size>    - qcow2 cluster size
          compat=<str>           - Compatibility level (v2 [0.10] or v3 [1.1])
          compression_type=<str> - Compression method used for image cluster compression (zlib or zstd)
          extended_l2=<bool (on/off)> - Extended L2 tables
          lazy_refcounts=<bool (on/off)> - Postpone refcount updates
          refcount_bits=<num>    - Width of a reference count entry in bits
          size=<size>            - Virtual disk size

        """;
}
