using System.Globalization;

namespace Qcow2.Tool;

/// <summary>
/// <c>qcow2 compare [-f FMT] [-F FMT] [-s] [-p] [-q] [-U] FILE1 FILE2</c>, like <c>qemu-img compare</c>
/// (<see cref="Qcow2VirtualDisk.Compare"/>): exit 0 identical, 1 different, 2 on an error.
/// </summary>
internal sealed class CompareCommand : ICommand
{
    private static readonly OptionSpec SecondFormat = new("second-format", 'F', null, true);
    private static readonly OptionSpec Strict = new("strict", 's', null, false);
    private static readonly OptionSpec Progress = new("progress", 'p', null, false);

    public string Name => "compare";

    public string Summary => "compare the contents of two disks (qemu-img compare)";

    public string Usage =>
        """
        usage: qcow2 compare [-f FMT] [-F FMT] [-s] [-p] [-q] [-U] FILE1 FILE2

        Compares what the guest sees in two disks (qcow2, through their backing chains, or raw).
        A larger disk's extra part must read as zeros. Exit code: 0 identical, 1 different, 2 error.

          -f FMT              the format of FILE1: qcow2 or raw (default: probed)
          -F FMT              the format of FILE2: qcow2 or raw (default: probed)
          -s                  strict: different sizes or allocation also count as a difference
          -p                  show progress on a terminal
          -q                  quiet: print nothing, only the exit code tells
          -U, --force-share   open even while another process (a running VM) writes the disks
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } =
        [CommonOptions.Format, SecondFormat, Strict, Progress, CommonOptions.Quiet, CommonOptions.ForceShare];

    public int ErrorExitCode => 2;

    public int Execute(ParsedArguments args, CommandContext context)
    {
        if (args.Positionals.Count != 2)
            throw new UsageException("Expecting two image file names");
        var quiet = args.Has(CommonOptions.Quiet.Key);
        using var first = OpenedDisk.Open(args.Positionals[0], args.Last(CommonOptions.Format.Key), args.Has(CommonOptions.ForceShare.Key));
        using var second = OpenedDisk.Open(args.Positionals[1], args.Last(SecondFormat.Key), args.Has(CommonOptions.ForceShare.Key));
        using var progress = args.Has(Progress.Key) && !quiet ? new TerminalProgress(context.Out) : null;
        var result = first.Disk.Compare(second.Disk, args.Has(Strict.Key), progress);
        progress?.Finish();
        var common = Math.Min(first.Disk.Length, second.Disk.Length);
        var message = result.Outcome switch
        {
            Qcow2CompareOutcome.Identical => "Images are identical.",
            Qcow2CompareOutcome.SizeMismatch => "Strict mode: Image size mismatch!",
            Qcow2CompareOutcome.AllocationMismatch => $"Strict mode: Offset {result.Offset} block status mismatch!",
            _ => $"Content mismatch at offset {result.Offset}!",
        };
        if (!quiet)
        {
            // qemu-img warns once the common part compared equal, before it looks at the rest of the larger disk.
            if (result.SizesDiffer && result.Outcome != Qcow2CompareOutcome.SizeMismatch && (result.Offset is null || result.Offset >= common))
                context.Out.Write("Warning: Image size mismatch!\n");
            context.Out.Write(string.Create(CultureInfo.InvariantCulture, $"{message}\n"));
        }
        return result.Outcome == Qcow2CompareOutcome.Identical ? 0 : 1;
    }
}
