namespace Qcow2.Tool;

/// <summary>
/// <c>qcow2 rebase [-f qcow2] [-u] [-p] [-q] -b BACKING -F FMT IMG</c>, like <c>qemu-img rebase</c>: a thin shell over
/// <see cref="Qcow2Image.SetBackingFile"/> (<c>-u</c>) and <see cref="Qcow2Image.Rebase"/> (safe mode).
/// </summary>
internal sealed class RebaseCommand : ICommand
{
    private static readonly OptionSpec Backing = new("backing", 'b', null, true);
    private static readonly OptionSpec BackingFormat = new("backing-format", 'F', null, true);
    private static readonly OptionSpec Unsafe = new("unsafe", 'u', null, false);
    private static readonly OptionSpec Progress = new("progress", 'p', null, false);

    /// <summary>Format names QEMU 7.2 knows; another -F is refused as qemu-img refuses it.</summary>
    private static readonly HashSet<string> KnownFormats = new(StringComparer.Ordinal)
    {
        "blkdebug", "blklogwrites", "blkverify", "bochs", "cloop", "compress", "copy-before-write", "copy-on-read", "dmg", "file",
        "ftp", "ftps", "host_cdrom", "host_device", "http", "https", "iscsi", "luks", "nbd", "nfs", "null-aio", "null-co", "nvme",
        "parallels", "preallocate", "qcow", "qcow2", "qed", "quorum", "raw", "rbd", "replication", "snapshot-access", "ssh",
        "throttle", "vdi", "vhdx", "vmdk", "vpc", "vvfat",
    };

    public string Name => "rebase";

    public string Summary => "change the backing file of an image (qemu-img rebase)";

    public string Usage =>
        """
        usage: qcow2 rebase [-f qcow2] [-u] [-p] [-q] [-U] -b BACKING -F FMT IMG

        Makes BACKING the backing file of IMG ('-b ""' removes it). In the default safe mode the guest keeps
        seeing the same data: wherever IMG has no data of its own and the old and new backing files differ,
        the old data is copied into IMG first. Both backing files are opened for that (a relative BACKING is
        taken relative to IMG's folder).

          -b BACKING          the new backing file name, stored as given; "" for none
          -F FMT              the format of BACKING (qcow2 or raw to be read in safe mode)
          -u                  unsafe: only rewrite the name in the header, read no data
          -U                  open the new backing file even while another process writes it
          -p                  show progress
          -q                  quiet
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } =
        [CommonOptions.Format, Backing, BackingFormat, Unsafe, Progress, CommonOptions.Quiet, CommonOptions.ForceShare];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        CommonOptions.CheckFormat(args);
        var path = CommonOptions.RequireFile(args, Name);
        var unsafeMode = args.Has(Unsafe.Key);
        var backing = args.Last(Backing.Key);
        if (backing is null && !unsafeMode)
            throw new UsageException("Must specify backing file (-b) or use unsafe mode (-u)");
        var format = args.Last(BackingFormat.Key);
        if (format is not null && !KnownFormats.Contains(format))
            throw new ToolException($"Invalid format name: '{format}'");
        var name = string.IsNullOrEmpty(backing) ? null : backing;
        using var progress = args.Has(Progress.Key) && !args.Has(CommonOptions.Quiet.Key) ? new TerminalProgress(context.Out, enabled: true) : null;
        progress?.Report(0);
        if (unsafeMode)
        {
            using var image = CommandLineImage.Open(path, writable: true);
            ChangeBackingFile(name, () => image.SetBackingFile(name, format));
        }
        else
        {
            using var image = CommandLineImage.Open(path, new Qcow2OpenOptions { Writable = true, OpenBackingChain = true, OpenDataFile = true });
            // -U opens the new backing file with force-share. In qemu-img 7.2 it does nothing for the old chain, which is
            // opened (and locked) with IMG before -U is looked at; so here too.
            using var newBacking = name is null ? null
                : OpenNewBacking(CommonOptions.PathCombine(path, name), name, format, args.Has(CommonOptions.ForceShare.Key));
            ChangeBackingFile(name, () => image.Rebase(newBacking?.Disk, name, format, progress));
        }
        progress?.Finish();
        return 0;
    }

    /// <summary>The library's refusals of the name or format, in qemu-img's words.</summary>
    private static void ChangeBackingFile(string? name, Action change)
    {
        try
        {
            change();
        }
        catch (ArgumentException e)
        {
            throw new ToolException($"Could not change the backing file to '{name}': {Cli.MessageOf(e)}");
        }
    }

    private static OpenedDisk OpenNewBacking(string path, string name, string? format, bool forceShare)
    {
        if (format is not (null or "qcow2" or "raw"))
            throw new ToolException($"Could not open new backing file '{name}': the format '{format}' cannot be read (qcow2 and raw can)");
        try
        {
            return OpenedDisk.Open(path, format, forceShare);
        }
        catch (ToolException e) when (e.InnerException is Qcow2LockException locked)
        {
            // qemu-img names the lock without repeating the file name.
            throw new ToolException($"Could not open new backing file '{name}': {Cli.MessageOf(locked)}");
        }
        catch (ToolException e)
        {
            throw new ToolException($"Could not open new backing file '{name}': {e.Message}");
        }
    }
}
