using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qcow2;

/// <summary>
/// <see cref="IImageStorage"/> over one <see cref="SafeFileHandle"/> with <see cref="RandomAccess"/>. The handle carries the
/// image locks, which are released when it is closed.
/// </summary>
internal sealed partial class FileStorage : IImageStorage
{
    private readonly SafeFileHandle handle;

    private readonly bool skipFlushes;

    private FileStorage(SafeFileHandle handle, bool canWrite, bool skipFlushes = false)
    {
        this.handle = handle;
        CanWrite = canWrite;
        this.skipFlushes = skipFlushes;
    }

    /// <summary>
    /// Opens an existing image and takes QEMU's locks for this kind of use (see <see cref="ImageLock"/>); with
    /// <paramref name="skipFlushes"/>, <see cref="Flush"/> does nothing (QEMU's <c>cache=unsafe</c>). A read-only image between
    /// the top and the base of a commit (<paramref name="underCommit"/>) does not share consistent reads either.
    /// </summary>
    public static FileStorage Open(string path, bool writable, bool forceShare, bool skipFlushes = false, bool underCommit = false)
    {
        var handle = File.OpenHandle(path, FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read,
            writable ? FileShare.Read : FileShare.ReadWrite);
        var (held, shared) = underCommit ? ImageLock.ForCommitIntermediate : ImageLock.For(writable, forceShare);
        return Locked(handle, path, held, shared, writable, skipFlushes);
    }

    /// <summary>
    /// Creates the file, or empties an existing one, but only after taking the locks <c>qemu-img create</c> takes, so that the
    /// image of a running VM is refused and not truncated.
    /// </summary>
    public static FileStorage CreateNew(string path)
    {
        var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var (held, shared) = ImageLock.ForCreate;
        var storage = Locked(handle, path, held, shared, canWrite: true);
        storage.SetLength(0);
        return storage;
    }

    private static FileStorage Locked(SafeFileHandle handle, string path, BlockPermissions held, BlockPermissions shared, bool canWrite,
        bool skipFlushes = false)
    {
        try
        {
            ImageLock.Acquire(handle, path, held, shared);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        return new(handle, canWrite, skipFlushes);
    }

    public long Length => RandomAccess.GetLength(handle);

    public bool SupportsConcurrentReads => true;

    public bool CanWrite { get; }

    public void Read(long offset, Span<byte> buffer)
    {
        Addressable.RequireIo(offset, buffer.Length);
        while (buffer.Length > 0)
        {
            var read = RandomAccess.Read(handle, buffer, offset);
            if (read == 0)
            {
                buffer.Clear();
                return;
            }
            buffer = buffer[read..];
            offset += read;
        }
    }

    public async ValueTask ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Addressable.RequireIo(offset, buffer.Length);
        while (buffer.Length > 0)
        {
            var read = await RandomAccess.ReadAsync(handle, buffer, offset, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                buffer.Span.Clear();
                return;
            }
            buffer = buffer[read..];
            offset += read;
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        Addressable.RequireIo(offset, data.Length);
        try
        {
            RandomAccess.Write(handle, data, offset);
        }
        catch (ArgumentException e)
        {
            // EFBIG: past the file system's largest file.
            throw new IOException($"File too large: {e.Message}", e);
        }
    }

    public void Flush()
    {
        if (!skipFlushes)
            RandomAccess.FlushToDisk(handle);
    }

    /// <summary><c>sync_file_range(SYNC_FILE_RANGE_WRITE)</c> on Linux; a failure only means the flush waits longer.</summary>
    public void StartWriteback(long offset, long length)
    {
        if (skipFlushes || !OperatingSystem.IsLinux() || length <= 0)
            return;
        Addressable.RequireIo(offset, length);
        _ = OnDescriptor(fd => SyncFileRange(fd, offset, length, SyncFileRangeWrite));
    }

    public void SetLength(long length)
    {
        Addressable.RequireIo(0, length);
        try
        {
            RandomAccess.SetLength(handle, length);
        }
        catch (ArgumentException e)
        {
            // EFBIG: past the file system's largest file.
            throw new IOException($"File too large: {e.Message}", e);
        }
    }

    /// <summary>
    /// <c>fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)</c> on Linux, as QEMU discards freed clusters; nothing elsewhere.
    /// A file system that cannot punch holes keeps the bytes, which is harmless: they belong to no cluster in use.
    /// </summary>
    public void PunchHole(long offset, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0)
            return;
        Addressable.RequireIo(offset, length);
        _ = FileHoles.TryPunchHole(handle, offset, length);
    }

    /// <summary>A system call on the file descriptor, which the handle keeps open meanwhile.</summary>
    private int OnDescriptor(Func<int, int> call)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return call((int)handle.DangerousGetHandle());
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    public IEnumerable<(long Start, long Length)> DataRuns(long offset, long length) => FileHoles.DataRuns(handle, offset, length);

    public long? AllocatedBytes => FileHoles.AllocatedBytes(handle);

    public void Dispose() => handle.Dispose();

    private const uint SyncFileRangeWrite = 2;

    [LibraryImport("libc.so.6", EntryPoint = "sync_file_range")]
    private static partial int SyncFileRange(int fd, long offset, long length, uint flags);
}
