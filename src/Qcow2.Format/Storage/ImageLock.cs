using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qcow2;

/// <summary>
/// QEMU 7.2 file-posix's image locks (docs/locking.md): shared open-file-description byte-range locks, byte 100 + i while
/// permission i is held and byte 200 + i while it is not shared. A new user first locks its own bytes, then tests the
/// other side; so two users racing to conflict both refuse, and neither goes ahead unseen. The locks belong to the open
/// file description and go away when the handle is closed (or the process dies), so there is nothing to release by hand.
/// Where OFD locks do not exist (not Linux, or a kernel before 3.15), nothing is locked, as with QEMU's default
/// <c>locking=auto</c>.
/// </summary>
internal static partial class ImageLock
{
    private const int PermissionBase = 100;
    private const int SharedBase = 200;
    private const int PermissionCount = 4;

    // Linux's fcntl commands and lock types (the same on every Linux architecture .NET runs on).
    private const int OfdGetLock = 36;
    private const int OfdSetLock = 37;
    private const short ReadLock = 0;
    private const short WriteLock = 1;
    private const short Unlocked = 2;
    private const int EAGAIN = 11;
    private const int EACCES = 13;
    private const int EINVAL = 22;

    /// <summary>What the holder uses and shares, for each way the library opens an image (the same as qemu-img's verbs).</summary>
    public static (BlockPermissions Held, BlockPermissions Shared) For(bool writable, bool forceShare) => (writable, forceShare) switch
    {
        // qemu-img check -r, resize, amend, bitmap; qemu-io.
        (true, _) => (BlockPermissions.ConsistentRead | BlockPermissions.Write | BlockPermissions.Resize,
            BlockPermissions.ConsistentRead | BlockPermissions.WriteUnchanged),
        // qemu-img check -U, qemu-io -r -U.
        (false, true) => (BlockPermissions.ConsistentRead, BlockPermissions.All),
        // qemu-img check, qemu-io -r.
        (false, false) => (BlockPermissions.ConsistentRead, BlockPermissions.ConsistentRead | BlockPermissions.WriteUnchanged),
    };

    /// <summary>
    /// What <c>qemu-img commit -b</c> holds on an image between the top and the base: it reads, and shares neither consistent
    /// reads (its guest data changes as the base is written) nor writes and resizes.
    /// </summary>
    public static (BlockPermissions Held, BlockPermissions Shared) ForCommitIntermediate =>
        (BlockPermissions.ConsistentRead, BlockPermissions.WriteUnchanged);

    /// <summary>What <c>qemu-img create</c> holds before it truncates the file: it writes and resizes, and shares all but resizing.</summary>
    public static (BlockPermissions Held, BlockPermissions Shared) ForCreate =>
        (BlockPermissions.Write | BlockPermissions.Resize, BlockPermissions.All & ~BlockPermissions.Resize);

    /// <summary>
    /// Takes the lock bytes for <paramref name="held"/> and <paramref name="shared"/> on <paramref name="handle"/>, then
    /// refuses, with qemu-img's words, if another open file description holds a permission we do not share or does not
    /// share one we hold. <paramref name="path"/> is the name the caller used, which the message repeats as QEMU does.
    /// </summary>
    /// <exception cref="Qcow2LockException">Another user conflicts, or the file system refuses the lock.</exception>
    public static void Acquire(SafeFileHandle handle, string path, BlockPermissions held, BlockPermissions shared)
    {
        if (!OperatingSystem.IsLinux())
            return;
        var fd = (int)handle.DangerousGetHandle();
        if (!HasOfdLocks(fd))
            return;
        var notShared = ~shared & BlockPermissions.All;
        for (var i = 0; i < PermissionCount; i++)
        {
            if (Has(held, i))
                Lock(fd, PermissionBase + i, path);
        }
        for (var i = 0; i < PermissionCount; i++)
        {
            if (Has(notShared, i))
                Lock(fd, SharedBase + i, path);
        }
        // A conflict seen right after a close of ours may be our own earlier open file description, kept alive for a moment by
        // a child process this process is starting (it holds every descriptor between fork and exec). A real holder is still
        // there a little later, so look again briefly before refusing.
        for (var attempt = 1; ; attempt++)
        {
            var conflict = FindConflict(fd, path, held, notShared);
            if (conflict is null)
                return;
            if (attempt == ConflictAttempts)
                throw Conflict(conflict, path);
            Thread.Sleep(ConflictRetryDelay);
        }
    }

    private const int ConflictAttempts = 5;
    private static readonly TimeSpan ConflictRetryDelay = TimeSpan.FromMilliseconds(20);

    /// <summary>QEMU's order: first whether anyone refuses to share what we use, then whether anyone uses what we refuse to share.</summary>
    private static string? FindConflict(int fd, string path, BlockPermissions held, BlockPermissions notShared)
    {
        for (var i = 0; i < PermissionCount; i++)
        {
            if (Has(held, i) && IsLockedByOthers(fd, SharedBase + i, path))
                return $"Failed to get \"{Name(i)}\" lock";
        }
        for (var i = 0; i < PermissionCount; i++)
        {
            if (Has(notShared, i) && IsLockedByOthers(fd, PermissionBase + i, path))
                return $"Failed to get shared \"{Name(i)}\" lock";
        }
        return null;
    }

    private static bool Has(BlockPermissions permissions, int bit) => ((int)permissions & (1 << bit)) != 0;

    private static Qcow2LockException Conflict(string message, string path) =>
        new($"{message}\nIs another process using the image [{path}]?", path);

    /// <summary>The permission names QEMU prints (<c>bdrv_perm_names</c>).</summary>
    private static string Name(int bit) => bit switch
    {
        0 => "consistent read",
        1 => "write",
        2 => "write unchanged",
        _ => "resize",
    };

    /// <summary>
    /// Whether the kernel has OFD locks; QEMU probes the same way, and without them locks nothing. A C library other than
    /// glibc's (musl) counts as none.
    /// </summary>
    private static bool HasOfdLocks(int fd)
    {
        var probe = new FileLock { Type = WriteLock, Start = 0, Length = 0 };
        try
        {
            return Fcntl(fd, OfdGetLock, ref probe) == 0 || Marshal.GetLastPInvokeError() != EINVAL;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Takes a shared lock on one byte.</summary>
    private static void Lock(int fd, int offset, string path)
    {
        var request = new FileLock { Type = ReadLock, Start = offset, Length = 1 };
        if (Fcntl(fd, OfdSetLock, ref request) != 0)
            throw LockError($"Failed to lock byte {offset}", Marshal.GetLastPInvokeError(), path);
    }

    /// <summary>Whether another open file description holds a lock on the byte (QEMU tests with an exclusive lock).</summary>
    private static bool IsLockedByOthers(int fd, int offset, string path)
    {
        var request = new FileLock { Type = WriteLock, Start = offset, Length = 1 };
        if (Fcntl(fd, OfdGetLock, ref request) != 0)
            throw LockError($"Failed to check byte {offset}", Marshal.GetLastPInvokeError(), path);
        return request.Type != Unlocked;
    }

    /// <summary>QEMU leaves out the error text for the "somebody holds it" errors, and appends it otherwise.</summary>
    private static Qcow2LockException LockError(string message, int errno, string path) =>
        new(errno is EAGAIN or EACCES ? message : $"{message}: {Marshal.GetPInvokeErrorMessage(errno)}", path);

    /// <summary>Linux's <c>struct flock</c> (l_type, l_whence, l_start, l_len, l_pid).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct FileLock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    [LibraryImport("libc.so.6", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, ref FileLock lockInfo);
}
