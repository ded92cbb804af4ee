using System.Runtime.InteropServices;

namespace Qcow2;

/// <summary>
/// Makes a rename durable: on Linux a renamed file's new name reaches the disk only when its folder is flushed, so a backup
/// flushes the folder before it clears the bitmap that the renamed file now covers.
/// </summary>
internal static partial class DirectoryFlush
{
    private const int ReadOnly = 0, Directory = 0x10000, CloseOnExec = 0x80000;

    /// <summary>Flushes <paramref name="directory"/>'s entries (<c>fsync</c> of the folder); does nothing off Linux.</summary>
    /// <exception cref="IOException">The folder cannot be opened or flushed.</exception>
    public static void Flush(string directory)
    {
        if (!OperatingSystem.IsLinux())
            return;
        var fd = Open(directory, ReadOnly | Directory | CloseOnExec);
        if (fd < 0)
            throw new IOException($"Could not open '{directory}' to flush it: {Marshal.GetLastPInvokeErrorMessage()}");
        try
        {
            if (Fsync(fd) != 0)
                throw new IOException($"Could not flush '{directory}': {Marshal.GetLastPInvokeErrorMessage()}");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc.so.6", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc.so.6", EntryPoint = "close")]
    private static partial int Close(int fd);
}
