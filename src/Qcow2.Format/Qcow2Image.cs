namespace Qcow2;

/// <summary>
/// An open qcow2 image. Opening validates the header, the header extensions, the snapshot table and the bitmap directory
/// exactly as QEMU 7.2 does; a read-only image is never written to, and a writable one only when QEMU would write too.
/// Backing and external data files named by the image are never opened, except by an explicit <see cref="OpenBackingFile"/>.
/// </summary>
public sealed partial class Qcow2Image : IDisposable
{
    private readonly IImageStorage storage;
    private readonly ImageMetadata image;
    private List<PreparedBitmapDirectory>? pendingBitmapChanges;
    private bool disposed;

    private Qcow2Image(IImageStorage storage, ImageMetadata image, string? fileName)
    {
        this.storage = storage;
        this.image = image;
        FileName = fileName;
    }

    /// <summary>
    /// Opens the image file at <paramref name="path"/>; read-only unless <see cref="Qcow2OpenOptions.Writable"/> is set. Before
    /// anything is read, the file is locked the way QEMU 7.2 locks it (docs/locking.md), for as long as the image is open: a
    /// writable open refuses while another process (QEMU, or another <see cref="Qcow2Image"/>) has the image open, unless that
    /// one opened it read-only with force-share; a read-only open refuses while another process writes it, unless
    /// <see cref="Qcow2OpenOptions.ForceShare"/> is set. Where the operating system has no open-file-description locks (anything
    /// but Linux), nothing is locked and nothing is refused, as in QEMU.
    /// </summary>
    /// <exception cref="Qcow2LockException">Another process uses the image in a conflicting way (qemu-img's message).</exception>
    /// <exception cref="Qcow2FormatException">The image is not one QEMU 7.2 would open (the message is QEMU's, plus the field and rule).</exception>
    /// <exception cref="ArgumentException"><see cref="Qcow2OpenOptions.ForceShare"/> with <see cref="Qcow2OpenOptions.Writable"/>.</exception>
    public static Qcow2Image Open(string path, Qcow2OpenOptions? options = null)
    {
        var (writable, forceShare) = Mode(options);
        return Open(FileStorage.Open(path, writable, forceShare, options?.SkipFlushes ?? false, options?.UnderCommit ?? false), writable, options?.ForCheck ?? false, Path.GetFullPath(path))
            .WithLinkedFiles(options);
    }

    /// <summary>
    /// Opens an image held in a seekable stream; a writable open needs <see cref="Stream.CanWrite"/>. A stream open takes no
    /// lock, even on a <see cref="FileStream"/>: the caller who opened the stream is responsible for excluding QEMU and other
    /// writers (open the image by path to have the library do it).
    /// </summary>
    /// <exception cref="Qcow2FormatException">The image is not one QEMU 7.2 would open.</exception>
    /// <exception cref="ArgumentException"><see cref="Qcow2OpenOptions.ForceShare"/> with <see cref="Qcow2OpenOptions.Writable"/>.</exception>
    public static Qcow2Image Open(Stream stream, Qcow2OpenOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var (writable, _) = Mode(options);
        return Open(new StreamStorage(stream, writable, options?.LeaveOpen ?? false), writable, options?.ForCheck ?? false, (stream as FileStream)?.Name)
            .WithLinkedFiles(options);
    }

    /// <summary>
    /// Creates (or overwrites) an empty image at <paramref name="path"/> laid out like <c>qemu-img create</c> does, and returns it
    /// opened writable. <paramref name="virtualSize"/> is rounded up to a multiple of 512.
    /// </summary>
    /// <exception cref="ArgumentException">The options or the size are not allowed (QEMU's words for the rule, then the option and its value).</exception>
    public static Qcow2Image Create(string path, long virtualSize, Qcow2CreateOptions? options = null)
    {
        ImageCreator.Create(path, virtualSize, options ?? new Qcow2CreateOptions());
        return Open(path, new Qcow2OpenOptions { Writable = true });
    }

    /// <summary>QEMU allows force-share only on read-only opens (its words).</summary>
    private static (bool Writable, bool ForceShare) Mode(Qcow2OpenOptions? options)
    {
        var writable = options?.Writable ?? false;
        var forceShare = options?.ForceShare ?? false;
        if (writable && forceShare)
            throw new ArgumentException("force-share=on can only be used with read-only images");
        return (writable, forceShare);
    }

    internal static Qcow2Image Open(IImageStorage storage, bool writable, bool forCheck, string? fileName)
    {
        try
        {
            var image = new Qcow2Image(storage, ImageOpener.Read(storage, writable, forCheck, out var rewrite), fileName);
            if (rewrite)
                image.UpdateHeader();
            if (writable && !forCheck && image.IsDirty)
                image.RepairDirty();
            return image;
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }

    /// <summary>The full path of the image file, or null for a stream that is not a file.</summary>
    public string? FileName { get; }

    /// <summary>Whether the image was opened read/write.</summary>
    public bool IsWritable => storage.CanWrite;

    /// <summary>The format version: 2 (compat 0.10) or 3 (compat 1.1).</summary>
    public int Version => (int)image.Header.Version;

    /// <summary>The guest disk size in bytes (the header value rounded down to 512, as QEMU uses it).</summary>
    public long VirtualSize => (long)image.VirtualSize;

    /// <summary>log2 of <see cref="ClusterSize"/>.</summary>
    public int ClusterBits => image.ClusterBits;

    /// <summary>The cluster size in bytes.</summary>
    public int ClusterSize => image.ClusterSize;

    /// <summary>The width of a refcount entry in bits (1..64).</summary>
    public int RefcountBits => 1 << (int)image.Header.RefcountOrder;

    /// <summary>How compressed clusters are encoded.</summary>
    public Qcow2CompressionType CompressionType => (Qcow2CompressionType)image.Header.CompressionType;

    /// <summary>The lazy refcounts compatible feature (bit 0).</summary>
    public bool LazyRefcounts => (image.Header.CompatibleFeatures & Features.LazyRefcounts) != 0;

    /// <summary>The dirty incompatible bit: refcounts may be stale.</summary>
    public bool IsDirty => (image.Header.IncompatibleFeatures & Features.Dirty) != 0;

    /// <summary>The corrupt incompatible bit: QEMU found corruption; the image opens read-only only.</summary>
    public bool IsCorrupt => (image.Header.IncompatibleFeatures & Features.Corrupt) != 0;

    /// <summary>Whether L2 entries are 128-bit with subclusters.</summary>
    public bool ExtendedL2 => image.ExtendedL2;

    /// <summary>The incompatible_features field (none for v2); bits this version does not know are kept as they are.</summary>
    public Qcow2IncompatibleFeatures IncompatibleFeatures => (Qcow2IncompatibleFeatures)image.Header.IncompatibleFeatures;

    /// <summary>The compatible_features field (none for v2).</summary>
    public Qcow2CompatibleFeatures CompatibleFeatures => (Qcow2CompatibleFeatures)image.Header.CompatibleFeatures;

    /// <summary>The autoclear_features field (none for v2); unknown bits are cleared by a writable open.</summary>
    public Qcow2AutoclearFeatures AutoclearFeatures => (Qcow2AutoclearFeatures)image.Header.AutoclearFeatures;

    /// <summary>How guest data is encrypted.</summary>
    public Qcow2EncryptionMethod EncryptionMethod => (Qcow2EncryptionMethod)image.Header.CryptMethod;

    /// <summary>The backing file name as stored, or null. The file is opened only by <see cref="OpenBackingFile"/>.</summary>
    public string? BackingFileName => image.BackingFileName;

    /// <summary>The backing file format from the backing format extension, or null.</summary>
    public string? BackingFormat => image.BackingFormat;

    /// <summary>The external data file name from its extension, or null. The file is never opened.</summary>
    public string? DataFileName => image.DataFileName;

    /// <summary>The raw external data autoclear bit: the data file is a valid raw image by itself.</summary>
    public bool DataFileRaw => (image.Header.AutoclearFeatures & Features.RawExternalData) != 0;

    /// <summary>The header extensions as they are on disk, in file order.</summary>
    public IReadOnlyList<Qcow2HeaderExtension> Extensions => image.Extensions;

    /// <summary>The persistent dirty bitmaps; empty when the bitmaps extension is absent or not trusted (autoclear bit 0 clear).</summary>
    public IReadOnlyList<Qcow2Bitmap> Bitmaps => image.Bitmaps;

    /// <summary>The internal snapshots.</summary>
    public IReadOnlyList<Qcow2Snapshot> Snapshots => image.Snapshots;

    /// <summary>Things QEMU would warn about while opening. The library never writes to the console.</summary>
    public IReadOnlyList<string> Warnings => image.Warnings;

    /// <summary>The current length of the image file in bytes.</summary>
    public long FileLength => storage.Length;

    internal IImageStorage Storage => storage;

    internal ImageMetadata Metadata => image;

    /// <summary>
    /// Opens the backing file this image names, as a qcow2 image, and returns it (the caller disposes it); null when the image has
    /// no backing file. This is the only way the library follows a name found in an image, and it follows only plain file paths:
    /// a name with a protocol prefix (<c>nbd:</c>, <c>http:</c>, <c>file:</c>…, anything matching <c>^[A-Za-z][A-Za-z0-9+.-]*:</c>)
    /// or a <c>json:</c> specification is refused, since an image from an untrusted source could otherwise make the caller
    /// connect to a server or read a file of the attacker's choosing with options of the attacker's choosing (spec §10). A relative
    /// name is resolved against the directory of this image, as QEMU does. Only one level is opened: the caller decides whether
    /// to follow the backing image's own backing file.
    /// </summary>
    /// <param name="options">How to open the backing image; null opens it read-only, as QEMU opens backing files.</param>
    /// <exception cref="Qcow2FormatException">
    /// The name has a protocol prefix or is a <c>json:</c> specification, the backing format is not qcow2, or the backing file
    /// is not an image QEMU 7.2 would open.
    /// </exception>
    /// <exception cref="InvalidOperationException">The name is relative and this image was opened from a stream that is not a file.</exception>
    /// <exception cref="IOException">The backing file cannot be read (for example, it does not exist).</exception>
    public Qcow2Image? OpenBackingFile(Qcow2OpenOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (BackingFileName is not { } name)
            return null;
        return Open(ResolveBackingFileName(name, BackingFormat, FileName), options);
    }

    /// <summary>The path <see cref="OpenBackingFile"/> opens for <paramref name="name"/>, or QEMU-like refusal.</summary>
    internal static string ResolveBackingFileName(string name, string? format, string? imagePath)
    {
        const string Field = "BackingFileName";
        if (name.StartsWith("json:", StringComparison.Ordinal))
            throw new Qcow2FormatException($"Backing file name '{name}' is a json: specification; only plain file paths are opened", Field, name);
        var windowsPath = OperatingSystem.IsWindows() && Path.IsPathFullyQualified(name);
        if (!windowsPath && ProtocolPrefix().IsMatch(name))
            throw new Qcow2FormatException($"Backing file name '{name}' has a protocol prefix ('{name[..name.IndexOf(':')]}:'); only plain file paths are opened",
                Field, name);
        if (name.Length == 0 || name.Contains('\0'))
            throw new Qcow2FormatException($"Backing file name '{name}' is not a file path", Field, name);
        if (format is not null && format != "qcow2")
            throw new Qcow2FormatException($"Backing file format '{format}' is not qcow2; only qcow2 backing files are opened", "BackingFormat", format);
        if (Path.IsPathRooted(name))
            return name;
        if (imagePath is null)
            throw new InvalidOperationException($"The backing file name '{name}' is relative, and the image was not opened from a file to resolve it against.");
        return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(imagePath)) ?? "", name);
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*:", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex ProtocolPrefix();

    /// <summary>Turns the lazy refcounts feature on or off and rewrites the header (like <c>qemu-img amend -o lazy_refcounts=…</c>).</summary>
    /// <exception cref="InvalidOperationException">The image is read-only, or enabling was asked of a version 2 image.</exception>
    /// <exception cref="Qcow2FormatException">The header does not fit in cluster 0 any more; the file is left as it was.</exception>
    public void SetLazyRefcounts(bool enabled)
    {
        EnsureWritable();
        if (enabled == LazyRefcounts)
            return;
        if (enabled && Version < 3)
            throw new InvalidOperationException("Lazy refcounts only supported with compatibility level 1.1 and above (this is a version 2 image)");
        var previous = image.Header.CompatibleFeatures;
        image.Header.CompatibleFeatures = enabled ? previous | Features.LazyRefcounts : previous & ~Features.LazyRefcounts;
        try
        {
            UpdateHeader();
        }
        catch
        {
            image.Header.CompatibleFeatures = previous;
            throw;
        }
    }

    /// <summary>
    /// Rewrites cluster 0 from the in-memory state with one cluster-sized write and a flush: header, unknown header fields,
    /// extensions in QEMU's order (unknown ones kept in their original order), END, backing file name.
    /// </summary>
    /// <exception cref="Qcow2FormatException">It does not fit in one cluster; the file is left untouched.</exception>
    /// <exception cref="InvalidOperationException">The image is read-only.</exception>
    public void UpdateHeader()
    {
        EnsureWritable();
        var (cluster, header, extensions) = HeaderWriter.Build(image);
        storage.Write(0, cluster);
        storage.Flush();
        image.Header = header;
        image.Extensions = extensions;
    }

    /// <summary>
    /// Checks the image as <c>qemu-img check</c> does: every refcount is recomputed from the metadata and compared with the
    /// one on disk. With <see cref="Qcow2CheckOptions.Repair"/> (on a writable image) it repairs, checks again, and clears the dirty
    /// and corrupt bits when, and only when, the image is then consistent. Guest data is never moved or changed.
    /// </summary>
    /// <exception cref="InvalidOperationException">A repair was asked of a read-only image.</exception>
    /// <exception cref="OperationCanceledException">The cancellation token fired.</exception>
    public Qcow2CheckResult Check(Qcow2CheckOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ForgetGuestDataState();
        return ImageCheck.Run(storage, image, UpdateHeader, options ?? new Qcow2CheckOptions());
    }

    /// <summary>QEMU repairs a dirty image (lazy refcounts after a crash) before the first write; so do we.</summary>
    private void RepairDirty()
    {
        var result = Check(new Qcow2CheckOptions { Repair = Qcow2CheckRepair.All });
        if (result.FailureMessage is not null || result.CheckErrors > 0 || result.Corruptions > 0)
            throw new Qcow2FormatException($"Could not repair dirty image: {result.FailureMessage ?? $"{result.Corruptions} corruptions and {result.CheckErrors} check errors remain"}",
                nameof(Qcow2Header) + ".IncompatibleFeatures", "dirty bit set");
        image.Warnings.Add($"The image was dirty (refcounts not up to date after a crash) and has been repaired: {result.LeaksFixed} leaked clusters and {result.CorruptionsFixed} corruptions fixed.");
    }

    /// <summary>Closes the file, which releases its locks (or the stream, unless it was opened with <see cref="Qcow2OpenOptions.LeaveOpen"/>).</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        try
        {
            // Like QEMU's close: the bitmaps and the lazy dirty bit are settled while the image is still open.
            CloseGuestData();
        }
        finally
        {
            disposed = true;
            storage.Dispose();
        }
    }

    private void EnsureWritable()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!storage.CanWrite)
            throw new InvalidOperationException("The image is open read-only.");
        // Metadata edits (resize, bitmaps, repair…) move tables: the guest data path rereads them afterwards.
        ForgetGuestDataState();
    }
}
