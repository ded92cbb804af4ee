namespace Qcow2;

/// <summary>
/// Another process uses the image in a way that conflicts with this open (QEMU 7.2's image locks, docs/locking.md), or the
/// file system refused the lock. The message is qemu-img's, e.g. <c>Failed to get "write" lock</c> followed by a second
/// line <c>Is another process using the image [PATH]?</c>.
/// </summary>
public sealed class Qcow2LockException : Qcow2FormatException
{
    /// <summary>Creates the exception with qemu-img's full message for the image at <paramref name="path"/> (as the caller named it).</summary>
    public Qcow2LockException(string message, string path)
        : base(message)
    {
        ImagePath = path;
    }

    /// <summary>The image file, as the caller named it.</summary>
    public string ImagePath { get; }
}
