namespace Qcow2.Tool;

/// <summary>
/// <c>qcow2 commit [-f qcow2] [-d] [-p] [-q] IMG</c>, like <c>qemu-img commit</c>: a thin shell over <see cref="Qcow2Image.Commit"/>.
/// </summary>
internal sealed class CommitCommand : ICommand
{
    private static readonly OptionSpec KeepData = new("keep", 'd', null, false);
    private static readonly OptionSpec Progress = new("progress", 'p', null, false);

    public string Name => "commit";

    public string Summary => "write an image's data into its backing file (qemu-img commit)";

    public string Usage =>
        """
        usage: qcow2 commit [-f qcow2] [-d] [-p] [-q] IMG

        Writes the data IMG holds itself into its backing file (opened writable, grown to IMG's size if
        smaller), then empties IMG so that the backing file shows through.

          -d                  do not empty IMG
          -p                  show progress
          -q                  quiet
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } = [CommonOptions.Format, KeepData, Progress, CommonOptions.Quiet];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        CommonOptions.CheckFormat(args);
        var path = CommonOptions.RequireFile(args, Name);
        var quiet = args.Has(CommonOptions.Quiet.Key);
        using var image = CommandLineImage.Open(path, writable: true);
        if (image.BackingFileName is null)
            throw new ToolException("Image does not have a backing file");
        using (var progress = args.Has(Progress.Key) && !quiet ? new TerminalProgress(context.Out, enabled: true) : null)
        {
            progress?.Report(0);
            image.Commit(emptyImage: !args.Has(KeepData.Key), progress);
            progress?.Finish();
        }
        if (!quiet)
            context.Out.Write("Image committed.\n");
        return 0;
    }
}
