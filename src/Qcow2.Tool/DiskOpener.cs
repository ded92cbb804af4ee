namespace Qcow2.Tool;

/// <summary>A disk a data verb reads or writes: a qcow2 image (with its backing chain and data file) or a raw file.</summary>
internal sealed class OpenedDisk(Qcow2VirtualDisk disk, IDisposable owner) : IDisposable
{
    public Qcow2VirtualDisk Disk { get; } = disk;

    public Qcow2Image? Image => Disk.Image;

    public void Dispose() => owner.Dispose();

    /// <summary>
    /// Opens <paramref name="path"/> as <paramref name="format"/> (qcow2 or raw); without a format, a file that starts with
    /// the qcow2 magic is qcow2 and anything else raw, as qemu-img probes.
    /// </summary>
    public static OpenedDisk Open(string path, string? format, bool forceShare = false)
    {
        format ??= Probe(path);
        switch (format)
        {
            case "qcow2":
                var image = CommandLineImage.Open(path, MapCommand.ChainOptions(forceShare));
                return new OpenedDisk(Qcow2VirtualDisk.FromImage(image), image);
            case "raw":
                if (!File.Exists(path))
                    throw new ToolException($"Could not open '{path}': No such file or directory");
                var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.RandomAccess);
                return new OpenedDisk(Qcow2VirtualDisk.FromRaw(stream), stream);
            default:
                throw new UsageException($"Unknown or unsupported file format: '{format}' (qcow2 and raw are supported)");
        }
    }

    private static string Probe(string path)
    {
        if (Directory.Exists(path))
            throw new ToolException($"Could not open '{path}': Is a directory");
        if (!File.Exists(path))
            throw new ToolException($"Could not open '{path}': No such file or directory");
        Span<byte> magic = stackalloc byte[4];
        using var file = File.OpenHandle(path);
        return RandomAccess.Read(file, magic, 0) == 4 && magic.SequenceEqual((ReadOnlySpan<byte>)[0x51, 0x46, 0x49, 0xFB]) ? "qcow2" : "raw";
    }
}
