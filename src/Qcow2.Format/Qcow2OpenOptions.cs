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

    /// <summary>For stream opens: leave the stream open when the image is disposed.</summary>
    public bool LeaveOpen { get; init; }
}
