using System.Globalization;

namespace Qcow2.Tool;

/// <summary>
/// <c>qcow2 backup --bitmap NAME [--clear] [--backing PREVIOUS] [-p] [-q] DISK TARGET</c>: offline incremental backup from a
/// persistent dirty bitmap, a thin shell over <see cref="Qcow2Backup.Run"/>.
/// </summary>
internal sealed class BackupCommand : ICommand
{
    private static readonly OptionSpec Bitmap = new("bitmap", null, "bitmap", true);
    private static readonly OptionSpec Clear = new("clear", null, "clear", false);
    private static readonly OptionSpec Backing = new("backing", 'b', "backing", true);
    private static readonly OptionSpec Progress = new("progress", 'p', null, false);

    public string Name => "backup";

    public string Summary => "back up the ranges a dirty bitmap marks into a new qcow2 (incremental backup)";

    public string Usage =>
        """
        usage: qcow2 backup --bitmap NAME [--clear] [--backing PREVIOUS.qcow2] [-p] [-q] DISK TARGET.qcow2

        Without --backing, copies the whole disk into TARGET (a full backup). With --backing, copies only
        the ranges the persistent dirty bitmap NAME marks, into a TARGET backed by PREVIOUS: the backups
        form a standard backing chain, and 'qemu-img convert -O raw NEWEST.qcow2 disk.raw' restores the disk.
        DISK must not be in use; it is only read, except that --clear clears the bitmap once TARGET is
        complete and flushed (a crash before leaves the bitmap as it was, so no change is missed).

          --bitmap NAME       the persistent dirty bitmap that tracks changes (qemu-img bitmap --add DISK NAME)
          --clear             clear the bitmap after a successful backup, ready for the next increment
          -b, --backing FILE  the previous backup; TARGET records it relative to its own folder
          -p                  show progress on a terminal
          -q                  quiet: do not print what was copied
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } = [Bitmap, Clear, Backing, Progress, CommonOptions.Quiet];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        if (args.Positionals.Count != 2)
            throw new UsageException("Expecting a disk image and a target file name; try 'qcow2 backup --help'");
        var bitmap = args.Last(Bitmap.Key) ?? throw new UsageException("--bitmap NAME is required; try 'qcow2 backup --help'");
        var (disk, target) = (args.Positionals[0], args.Positionals[1]);
        if (!File.Exists(disk))
            throw new ToolException($"Could not open '{disk}': No such file or directory");
        var previous = args.Last(Backing.Key);
        if (previous is not null && !File.Exists(previous))
            throw new ToolException($"Could not open '{previous}': No such file or directory");
        var quiet = args.Has(CommonOptions.Quiet.Key);
        using var progress = args.Has(Progress.Key) && !quiet ? new TerminalProgress(context.Out) : null;
        var result = Qcow2Backup.Run(disk, bitmap, target, new Qcow2BackupOptions
        {
            PreviousBackup = previous,
            ClearBitmap = args.Has(Clear.Key),
            Progress = progress,
        });
        progress?.Finish();
        if (!quiet)
        {
            context.Out.Write(string.Create(CultureInfo.InvariantCulture,
                $"{(result.Full ? "Full" : "Incremental")} backup: {result.Ranges} range(s), {result.Bytes} bytes copied to '{target}'{(args.Has(Clear.Key) ? $"; bitmap '{bitmap}' cleared" : "")}.\n"));
        }
        return 0;
    }
}
