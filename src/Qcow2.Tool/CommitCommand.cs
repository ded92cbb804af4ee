namespace Qcow2.Tool;

/// <summary>
/// <c>qcow2 commit [-f qcow2] [-b BASE] [-d] [-p] [-q] IMG</c>, like <c>qemu-img commit</c>: a thin shell over
/// <see cref="Qcow2Image.Commit"/> and <see cref="Qcow2Image.CommitInto(string, IProgress{double}?, CancellationToken)"/>.
/// </summary>
internal sealed class CommitCommand : ICommand
{
    private static readonly OptionSpec Base = new("base", 'b', null, true);
    private static readonly OptionSpec KeepData = new("keep", 'd', null, false);
    private static readonly OptionSpec Progress = new("progress", 'p', null, false);

    public string Name => "commit";

    public string Summary => "write an image's data into its backing file (qemu-img commit)";

    public string Usage =>
        """
        usage: qcow2 commit [-f qcow2] [-b BASE] [-d] [-p] [-q] IMG

        Writes the data IMG holds itself into its backing file (opened writable, grown to IMG's size if
        smaller), then empties IMG so that the backing file shows through.

          -b BASE             commit into BASE, further down IMG's backing chain: the images in between are
                              committed too; nothing is emptied (implies -d), and the images in between may
                              no longer read as before
          -d                  do not empty IMG
          -p                  show progress
          -q                  quiet
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } = [CommonOptions.Format, Base, KeepData, Progress, CommonOptions.Quiet];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        CommonOptions.CheckFormat(args);
        var path = CommonOptions.RequireFile(args, Name);
        var quiet = args.Has(CommonOptions.Quiet.Key);
        var baseName = args.Last(Base.Key);
        using var image = CommandLineImage.Open(path, writable: true);
        if (image.BackingFileName is null && baseName is null)
            throw new ToolException("Image does not have a backing file");
        using (var progress = args.Has(Progress.Key) && !quiet ? new TerminalProgress(context.Out, enabled: true) : null)
        {
            progress?.Report(0);
            if (baseName is null)
                image.Commit(emptyImage: !args.Has(KeepData.Key), progress);
            else
                CommitInto(image, baseName, path, progress);
            progress?.Finish();
        }
        if (!quiet)
            context.Out.Write("Image committed.\n");
        return 0;
    }

    private static void CommitInto(Qcow2Image image, string baseName, string path, IProgress<double>? progress)
    {
        if (image.BackingFileName is null)
            throw NotInChain();
        try
        {
            image.CommitInto(baseName, progress);
        }
        catch (ArgumentException e) when (e.ParamName == "baseFileName")
        {
            throw NotInChain();
        }
        ToolException NotInChain() => new($"Did not find '{baseName}' in the backing chain of '{path}'");
    }
}
