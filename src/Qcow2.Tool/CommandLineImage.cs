namespace Qcow2.Tool;

/// <summary>Opens an image named on the command line, with qemu-img-like error messages (<c>Could not open 'x': …</c>).</summary>
internal static class CommandLineImage
{
    public static Qcow2Image Open(string path, bool writable, bool forCheck = false, bool forceShare = false)
    {
        if (Directory.Exists(path))
            throw new ToolException($"Could not open '{path}': Is a directory");
        if (!File.Exists(path))
            throw new ToolException($"Could not open '{path}': No such file or directory");
        try
        {
            return Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = writable, ForCheck = forCheck, ForceShare = forceShare });
        }
        catch (Exception e) when (e is Qcow2FormatException or BinaryFormat.BinaryFormatException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ToolException($"Could not open '{path}': {Cli.MessageOf(e)}");
        }
    }
}
