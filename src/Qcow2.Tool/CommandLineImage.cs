namespace Qcow2.Tool;

/// <summary>Opens an image named on the command line, with qemu-img-like error messages (<c>Could not open 'x': …</c>).</summary>
internal static class CommandLineImage
{
    public static Qcow2Image Open(string path, bool writable, bool forCheck = false, bool forceShare = false) =>
        Open(path, new Qcow2OpenOptions { Writable = writable, ForCheck = forCheck, ForceShare = forceShare });

    /// <summary>Opens with <paramref name="options"/>, for verbs that read guest data through the backing chain and data file.</summary>
    public static Qcow2Image Open(string path, Qcow2OpenOptions options)
    {
        if (Directory.Exists(path))
            throw new ToolException($"Could not open '{path}': Is a directory");
        if (!File.Exists(path))
            throw new ToolException($"Could not open '{path}': No such file or directory");
        try
        {
            return Qcow2Image.Open(path, options);
        }
        catch (Qcow2LockException e) when (options.OpenBackingChain && e.ImagePath != Path.GetFullPath(path))
        {
            throw new ToolException($"Could not open '{path}': Could not open backing file: {Cli.MessageOf(e)}");
        }
        catch (Exception e) when (e is Qcow2FormatException or BinaryFormat.BinaryFormatException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ToolException($"Could not open '{path}': {Cli.MessageOf(e)}", e);
        }
    }
}
