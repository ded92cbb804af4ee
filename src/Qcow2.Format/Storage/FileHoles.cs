using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qcow2;

/// <summary>
/// The data and holes of a sparse file, as <c>lseek(SEEK_DATA/SEEK_HOLE)</c> reports them on Linux, so that a raw disk's holes
/// are neither read nor written (QEMU's file driver reports them the same way). Elsewhere the whole file is data.
/// </summary>
internal static partial class FileHoles
{
    private const int SeekData = 3, SeekHole = 4;
    private const int ENXIO = 6;

    /// <summary>The data runs of [offset, offset + length) in order, each (start, length); the rest reads as zeros.</summary>
    public static IEnumerable<(long Start, long Length)> DataRuns(SafeFileHandle file, long offset, long length)
    {
        var end = offset + length;
        if (!OperatingSystem.IsLinux())
        {
            yield return (offset, length);
            yield break;
        }
        var fd = (int)file.DangerousGetHandle();
        while (offset < end)
        {
            var data = Seek(fd, offset, SeekData);
            if (data < 0)
            {
                // ENXIO: no data past offset; any other failure (a file system without the calls): treat the rest as data.
                if (Marshal.GetLastPInvokeError() != ENXIO)
                    yield return (offset, end - offset);
                yield break;
            }
            if (data >= end)
                yield break;
            var hole = Seek(fd, data, SeekHole);
            var runEnd = hole < 0 ? end : Math.Min(hole, end);
            yield return (data, runEnd - data);
            offset = runEnd;
        }
    }

    /// <summary>
    /// Makes [offset, offset + length) a hole that reads as zeros, keeping the file's size (<c>fallocate</c> with
    /// <c>FALLOC_FL_PUNCH_HOLE</c>, as QEMU's file driver writes zeros it may unmap); false where that is not possible (not Linux,
    /// or a file system without it), and the caller writes zeros instead.
    /// </summary>
    public static bool TryPunchHole(SafeFileHandle file, long offset, long length)
    {
        const int KeepSize = 0x01, PunchHole = 0x02;
        return OperatingSystem.IsLinux() && Fallocate((int)file.DangerousGetHandle(), KeepSize | PunchHole, offset, length) == 0;
    }

    /// <summary>
    /// The bytes the file occupies on disk, <c>st_blocks * 512</c> from <c>fstat</c>, as QEMU's file driver reports its allocated
    /// size; null where that is not known (not Linux on x64 or arm64, where <c>st_blocks</c> is at offset 64 of <c>struct stat</c>).
    /// </summary>
    public static long? AllocatedBytes(SafeFileHandle file)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
            return null;
        Span<byte> stat = stackalloc byte[256];
        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            return FileStat((int)file.DangerousGetHandle(), stat) == 0 ? BitConverter.ToInt64(stat[64..]) * 512 : null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
        finally
        {
            if (added)
                file.DangerousRelease();
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "fstat", SetLastError = true)]
    private static partial int FileStat(int fd, Span<byte> buffer);

    [LibraryImport("libc.so.6", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int Fallocate(int fd, int mode, long offset, long length);

    [LibraryImport("libc.so.6", EntryPoint = "lseek", SetLastError = true)]
    private static partial long Seek(int fd, long offset, int whence);
}
