using System.Text;

namespace Qcow2.Tool;

/// <summary><c>qcow2 snapshot [-l | -a NAME | -c NAME | -d NAME] [-f qcow2] [-q] [-U] FILE</c>, like <c>qemu-img snapshot</c>.</summary>
internal sealed class SnapshotCommand : ICommand
{
    private static readonly OptionSpec List = new("list", 'l', null, false);
    private static readonly OptionSpec Apply = new("apply", 'a', null, true);
    private static readonly OptionSpec Create = new("create", 'c', null, true);
    private static readonly OptionSpec Delete = new("delete", 'd', null, true);

    public string Name => "snapshot";

    public string Summary => "list, create, apply or delete internal snapshots (qemu-img snapshot)";

    public string Usage =>
        """
        usage: qcow2 snapshot [-l | -a SNAPSHOT | -c SNAPSHOT | -d SNAPSHOT] [-f qcow2] [-q] [-U] FILE

        Lists, creates, applies (reverts the disk to) or deletes internal snapshots. -a finds a snapshot
        by id first, then by name; -d by name first, then by id. Without an action nothing is done.

          -l                  list the snapshots
          -c SNAPSHOT         create a snapshot named SNAPSHOT (names longer than 255 bytes are cut)
          -a SNAPSHOT         apply the snapshot
          -d SNAPSHOT         delete the snapshot
          -f qcow2            the image format (only qcow2)
          -q                  quiet (accepted for compatibility)
          -U, --force-share   accepted for compatibility with -l
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } =
        [List, Apply, Create, Delete, CommonOptions.Format, CommonOptions.Quiet, CommonOptions.ForceShare];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        var actions = args.InOrder.Where(o => o.Key is "list" or "apply" or "create" or "delete").ToList();
        if (actions.Count > 1)
            throw new UsageException("Cannot mix '-l', '-a', '-c', '-d'");
        CommonOptions.CheckFormat(args);
        if (args.Positionals.Count != 1)
            throw new UsageException("Expecting one image file name");
        var path = args.Positionals[0];
        var (action, name) = actions.Count == 0 ? ("", "") : (actions[0].Key, actions[0].Value);

        using var image = CommandLineImage.Open(path, writable: action is "apply" or "create" or "delete");
        foreach (var warning in image.Warnings)
            context.Warn(warning);
        switch (action)
        {
            case "list":
                context.Out.Write(SnapshotListing.Format(image.Snapshots));
                break;
            case "create":
                CreateSnapshot(image, name);
                break;
            case "apply":
                var toApply = image.FindSnapshotByIdOrName(name)
                    ?? throw new ToolException($"Could not apply snapshot '{name}': Failed to load snapshot: No such file or directory");
                Run(() => image.ApplySnapshot(toApply), $"Could not apply snapshot '{name}': ");
                break;
            case "delete":
                var toDelete = image.FindSnapshotByNameOrId(name)
                    ?? throw new ToolException($"Could not delete snapshot '{name}': snapshot not found");
                Run(() => image.DeleteSnapshot(toDelete), $"Could not delete snapshot '{name}': ");
                break;
        }
        return 0;
    }

    /// <summary>qemu-img keeps a name in a 256-byte C string: longer names are cut to 255 bytes (here at a character boundary).</summary>
    private static void CreateSnapshot(Qcow2Image image, string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        if (bytes.Length > Qcow2Image.MaxSnapshotNameBytes)
        {
            var length = Qcow2Image.MaxSnapshotNameBytes;
            while (length > 0 && (bytes[length] & 0xC0) == 0x80)
                length--;
            name = Encoding.UTF8.GetString(bytes, 0, length);
        }
        var prefix = $"Could not create snapshot '{name}': ";
        try
        {
            image.CreateSnapshot(name);
        }
        // qemu-img prints the errno of the failure; these are the ones QEMU returns for the same refusals.
        catch (InvalidOperationException)
        {
            throw new ToolException(prefix + "-27 (File too large)");
        }
        catch (NotSupportedException)
        {
            throw new ToolException(prefix + "-95 (Operation not supported)");
        }
        catch (OverflowException)
        {
            throw new ToolException(prefix + "-22 (Invalid argument)");
        }
        catch (Qcow2FormatException e)
        {
            throw new ToolException(prefix + e.Message);
        }
    }

    private static void Run(Action action, string prefix)
    {
        try
        {
            action();
        }
        // The image is open writable, so an InvalidOperationException is a refusal of this image's state, not a read-only one.
        catch (Exception e) when (e is Qcow2FormatException or NotSupportedException or OverflowException or InvalidOperationException)
        {
            throw new ToolException(prefix + e.Message);
        }
    }
}
