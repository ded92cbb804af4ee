namespace Qcow2.Tool;

/// <summary>
/// <c>qcow2 convert [-c] [-f FMT] [-O FMT] [-o OPTIONS] [-B BACKING -F FMT] [-S SIZE] [-t CACHE] [-n] [-p] [-q] [--bitmaps] SRC DST</c>, like
/// <c>qemu-img convert</c>: a thin shell over <see cref="Qcow2Converter.Copy"/>.
/// </summary>
internal sealed class ConvertCommand : ICommand
{
    private static readonly OptionSpec OutputFormat = new("output-format", 'O', null, true);
    private static readonly OptionSpec Backing = new("backing", 'B', null, true);
    private static readonly OptionSpec BackingFormat = new("backing-format", 'F', null, true);
    private static readonly OptionSpec Sparse = new("sparse", 'S', null, true);
    private static readonly OptionSpec NoCreate = new("no-create", 'n', null, false);
    private static readonly OptionSpec Progress = new("progress", 'p', null, false);
    private static readonly OptionSpec Compress = new("compress", 'c', null, false);
    private static readonly OptionSpec Bitmaps = new("bitmaps", null, "bitmaps", false);
    private static readonly OptionSpec Cache = new("cache", 't', null, true);

    public string Name => "convert";

    public string Summary => "copy a disk into a new qcow2 or raw image (qemu-img convert)";

    public string Usage =>
        """
        usage: qcow2 convert [-c] [-f FMT] [-O FMT] [-o OPTIONS] [-B BACKING -F FMT] [-S SIZE] [-t CACHE] [-n] [-p] [-q] [--bitmaps] SRC DST

        Copies what the guest sees in SRC (qcow2 through its backing chain, or raw) into DST.
        Ranges of zeros are not written, so DST stays sparse.

          -f FMT              the format of SRC: qcow2 or raw (default: probed)
          -O FMT              the format of DST: raw (default, as qemu-img) or qcow2
          -o OPTIONS          qcow2 creation options, as for create (cluster_size, compat, compression_type, ...)
          -B BACKING          DST gets this backing file; only what differs from it is written
          -F FMT              the format of BACKING (qcow2)
          -S SIZE             skip runs of at least SIZE zero bytes (default 4k; 0 writes everything)
          -t CACHE            unsafe (default, as qemu-img): DST is not flushed; writeback, writethrough, none,
                              directsync: DST is flushed to disk before convert succeeds
          -c                  compress DST's clusters (zlib or zstd, the image's compression type), on every core
          -n                  DST exists already: do not create it
          --bitmaps           copy the persistent dirty bitmaps (qcow2 to qcow2)
          -p                  show progress on a terminal
          -q                  quiet
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } =
        [CommonOptions.Format, OutputFormat, CommonOptions.OptionList, Backing, BackingFormat, Sparse, NoCreate, Progress, Compress,
         Bitmaps, Cache, CommonOptions.Quiet, CommonOptions.ForceShare];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        if (args.Positionals.Count < 2)
            throw new UsageException("Expecting image file name and output file name");
        if (args.Positionals.Count > 2)
            throw new UsageException("Converting several images into one is not supported");
        var (sourcePath, targetPath) = (args.Positionals[0], args.Positionals[1]);
        var outputFormat = args.Last(OutputFormat.Key) ?? "raw";
        if (outputFormat is not ("raw" or "qcow2"))
            throw new UsageException($"Unknown file format '{outputFormat}'");
        var compress = args.Has(Compress.Key);
        if (compress && outputFormat != "qcow2")
            throw new ToolException("Compression not supported for this file format");
        var sparse = args.Last(Sparse.Key) is { } s
            ? CommonOptions.TryParseSize(s) is { } size && size % 512 == 0 ? size : throw new ToolException("Invalid buffer size for sparse output specified. Valid sizes are multiples of 512 up to 2147483136.")
            : 4096;
        var backing = args.Last(Backing.Key);
        if (backing is not null && outputFormat != "qcow2")
            throw new ToolException($"Backing file not supported for file format '{outputFormat}'");
        var durable = args.Last(Cache.Key) switch
        {
            null or "unsafe" => false,
            // Without O_DIRECT or a flush after every write, these differ from writeback only in speed: the target is
            // durable when convert succeeds.
            "writeback" or "writethrough" or "none" or "off" or "directsync" => true,
            var mode => throw new ToolException($"Invalid cache option: {mode}"),
        };
        var bitmaps = args.Has(Bitmaps.Key);
        if (bitmaps && outputFormat != "qcow2")
            throw new ToolException("Format driver does not support bitmaps");

        using var source = OpenedDisk.Open(sourcePath, args.Last(CommonOptions.Format.Key), args.Has(CommonOptions.ForceShare.Key));
        using var target = args.Has(NoCreate.Key) ? OpenTarget(targetPath, outputFormat, durable)
            : CreateTarget(targetPath, outputFormat, source.Disk.Length, args, backing, durable);
        if (target.Disk.Length < source.Disk.Length)
            throw new ToolException("output file is smaller than input file");
        using var progress = args.Has(Progress.Key) && !args.Has(CommonOptions.Quiet.Key) ? new TerminalProgress(context.Out) : null;
        Qcow2Converter.Copy(source.Disk, target.Disk, new Qcow2CopyOptions
        {
            SparseSize = sparse,
            OnlyDifferences = backing is not null,
            CopyBitmaps = bitmaps,
            Compress = compress,
            Progress = progress,
            FlushTarget = durable,
        });
        progress?.Finish();
        return 0;
    }

    private static OpenedDisk OpenTarget(string path, string format, bool durable)
    {
        if (format == "raw")
        {
            if (!File.Exists(path))
                throw new ToolException($"Could not open '{path}': No such file or directory");
            var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.RandomAccess);
            return new OpenedDisk(Qcow2VirtualDisk.FromRaw(stream), stream);
        }
        var image = CommandLineImage.Open(path, new Qcow2OpenOptions { Writable = true, OpenBackingChain = true, OpenDataFile = true, SkipFlushes = !durable });
        return new OpenedDisk(Qcow2VirtualDisk.FromImage(image), image);
    }

    private static OpenedDisk CreateTarget(string path, string format, long size, ParsedArguments args, string? backing, bool durable)
    {
        var list = CommonOptions.ParseOptionList(args.All(CommonOptions.OptionList.Key));
        if (format == "raw")
        {
            if (list.Count > 0)
                throw new ToolException($"{path}: Invalid parameter '{list[0].Key}'");
            var raw = CreateFailsLikeQemu(path, format, () => Qcow2VirtualDisk.CreateRaw(path, size));
            return new OpenedDisk(raw, raw);
        }
        if (backing is not null)
        {
            list.RemoveAll(o => o.Key is "backing_file" or "backing_fmt");
            list.Add(new("backing_file", backing));
            list.Add(new("backing_fmt", args.Last(BackingFormat.Key) ?? "qcow2"));
        }
        var options = CreateCommand.ParseImageOptions(path + ": ", list);
        CreateFailsLikeQemu(path, format, () => Qcow2Image.Create(path, size, options)).Dispose();
        var image = CommandLineImage.Open(path, new Qcow2OpenOptions { Writable = true, OpenBackingChain = true, SkipFlushes = !durable });
        return new OpenedDisk(Qcow2VirtualDisk.FromImage(image), image);
    }

    /// <summary>qemu-img's words for a target it cannot create: <c>DST: error while converting FMT: reason</c>.</summary>
    private static T CreateFailsLikeQemu<T>(string path, string format, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or Qcow2FormatException)
        {
            var reason = e switch
            {
                DirectoryNotFoundException or FileNotFoundException => $"Could not create '{path}': No such file or directory",
                UnauthorizedAccessException => $"Could not create '{path}': Permission denied",
                // EFBIG from sizing the raw file (past RLIMIT_FSIZE or the file system's largest file).
                ArgumentOutOfRangeException when format == "raw" => "Could not resize file: File too large",
                _ => Cli.MessageOf(e),
            };
            throw new ToolException($"{path}: error while converting {format}: {reason}");
        }
    }
}
