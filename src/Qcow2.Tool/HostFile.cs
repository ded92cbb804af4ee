using System.Runtime.InteropServices;

namespace Qcow2.Tool;

/// <summary>Facts about the image file on the host file system.</summary>
internal static partial class HostFile
{
    /// <summary>
    /// Bytes the file occupies on disk, like qemu-img's <c>actual-size</c> (<c>st_blocks * 512</c>). Uses <c>stat(2)</c> on
    /// Linux x64/arm64 (where <c>st_blocks</c> is at offset 64 of <c>struct stat</c>); elsewhere, or if that fails, the
    /// file length. Null if the file cannot be examined.
    /// </summary>
    public static long? AllocatedSize(string path)
    {
        if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64)
        {
            try
            {
                var buffer = new byte[256];
                if (Stat(path, buffer) == 0)
                    return BitConverter.ToInt64(buffer, 64) * 512;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // fall back to the length below
            }
        }
        try
        {
            return new FileInfo(path).Length;
        }
        catch (IOException)
        {
            return null;
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Stat(string path, [Out] byte[] buffer);
}
