namespace Qcow2;

/// <summary>How <see cref="Qcow2Image.Open(string, Qcow2OpenOptions?)"/> opens an image.</summary>
public sealed class Qcow2OpenOptions
{
    /// <summary>Open read/write. The default is read-only, which never writes to the file.</summary>
    public bool Writable { get; init; }

    /// <summary>
    /// Open as <c>qemu-img check</c> does, so that <see cref="Qcow2Image.Check"/> can report and repair what a normal open
    /// refuses: a missing refcount table, the corrupt bit on a writable open, and a dirty image (which is then not repaired
    /// on open).
    /// </summary>
    public bool ForCheck { get; init; }

    /// <summary>
    /// Open even while another process writes the image, like qemu-img's <c>-U</c> (<c>--force-share</c>): only for read-only
    /// opens, since what is read may change underneath. The open still holds its "consistent read" lock byte, so QEMU sees the
    /// reader, but it refuses no writer. Opening a stream takes no locks, so this changes nothing there.
    /// </summary>
    public bool ForceShare { get; init; }

    /// <summary>For stream opens: leave the stream open when the image is disposed.</summary>
    public bool LeaveOpen { get; init; }
}
