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

    /// <summary>
    /// Open the backing file the image names, and its backing file in turn, read-only, so that guest reads of unallocated
    /// ranges show their data; they are disposed with the image. Names are followed as <see cref="Qcow2Image.OpenBackingFile"/>
    /// follows them (plain paths only). Off by default: an image never makes the library open a file by itself.
    /// </summary>
    public bool OpenBackingChain { get; init; }

    /// <summary>
    /// Open the external data file the image names (resolved against the image's folder, plain paths only), with the image's
    /// access, so that its guest data can be read and written. Off by default.
    /// </summary>
    public bool OpenDataFile { get; init; }

    /// <summary>
    /// Never make writes durable (QEMU's <c>cache=unsafe</c>, <c>qemu-img convert</c>'s default for its target): flushes do
    /// nothing, for the image and its data file. Writes still reach the file in the same order, so an interrupted process
    /// leaves the image as consistent as with flushes; a crash of the operating system or a power loss may not.
    /// </summary>
    public bool SkipFlushes { get; init; }

    /// <summary>
    /// Opened read-only as an image between the top and the base of
    /// <see cref="Qcow2Image.CommitInto(string, IProgress{double}?, CancellationToken)"/>: locked so that no other process
    /// starts to read it while its guest data changes underneath (QEMU's commit job shares no consistent read).
    /// </summary>
    internal bool UnderCommit { get; init; }

    /// <summary>The most memory spent on cached L2 tables, in bytes (QEMU's <c>l2-cache-size</c>); 32 MiB by default.</summary>
    public long L2CacheSize { get; init; } = 32L << 20;
}
