using System.Runtime.InteropServices;

namespace Qcow2;

/// <summary>
/// A path made absolute with its symbolic links resolved (<c>realpath</c>), as QEMU compares file names of a backing chain; null
/// when the file does not exist. Where <c>realpath</c> cannot be called (not Linux), the full path of an existing file.
/// </summary>
internal static partial class CanonicalPath
{
    public static string? Of(string path)
    {
        if (!OperatingSystem.IsLinux())
            return File.Exists(path) || Directory.Exists(path) ? Path.GetFullPath(path) : null;
        var resolved = RealPath(path, 0);
        if (resolved == 0)
            return null;
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPath(string path, nint resolved);

    [LibraryImport("libc.so.6", EntryPoint = "free")]
    private static partial void Free(nint pointer);
}
