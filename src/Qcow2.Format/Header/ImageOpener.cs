using System.Globalization;
using System.Text;
using BinaryFormat;

namespace Qcow2;

/// <summary>
/// Reads and validates an image in the order of QEMU 7.2's <c>qcow2_do_open</c> (spec §1.1 "Exact error order"), so that an
/// image with several problems fails with the same error as in QEMU. All arithmetic on file values is 64-bit and overflow-free.
/// </summary>
internal static class ImageOpener
{
    private const string H = nameof(Qcow2Header);

    /// <summary>Validates the image; <paramref name="rewriteHeader"/> says whether a writable open must rewrite cluster 0 (spec §5).</summary>
    public static ImageMetadata Read(IImageStorage storage, bool writable, bool forCheck, out bool rewriteHeader)
    {
        var image = new ImageMetadata();
        // Past the end of the file the storage reads zeros, which would be reported as a wrong magic of 0x00000000.
        if (storage.Length < sizeof(uint))
            throw new Qcow2FormatException(storage.Length == 0
                ? "Image is not in qcow2 format (the file is empty)"
                : string.Create(CultureInfo.InvariantCulture, $"Image is not in qcow2 format (the file is {storage.Length} bytes long, too short for the 4-byte magic)"),
                H + ".Magic", storage.Length.ToString(CultureInfo.InvariantCulture) + " bytes");
        Span<byte> fixedPart = stackalloc byte[Qcow2Header.Size];
        storage.Read(0, fixedPart);
        var header = Qcow2Header.ReadUnchecked(fixedPart);

        var errors = header.Validate(null, 0);
        Require(errors, nameof(Qcow2Header.Magic), "Image is not in qcow2 format");
        Require(errors, nameof(Qcow2Header.Version), $"Unsupported qcow2 version {header.Version}");
        Require(errors, nameof(Qcow2Header.ClusterBits), $"Unsupported cluster size: 2^{header.ClusterBits}");
        var clusterSize = 1L << (int)header.ClusterBits;
        errors = header.Validate(new ValidationContext().Set(ContextKeys.ClusterSize, clusterSize), 0);

        if (header.Version >= 3)
        {
            Require(errors, nameof(Qcow2Header.HeaderLength), "qcow2 header too short");
            if (header.HeaderLength > clusterSize)
                throw Qcow2FormatException.ForField("qcow2 header exceeds cluster size", H + ".HeaderLength", 100, header.HeaderLength,
                    $"is larger than the cluster size {clusterSize}");
        }
        // Cluster 0 holds the header, the extensions and the backing file name; it is at most 2 MiB.
        var cluster0 = new byte[clusterSize];
        storage.Read(0, cluster0);
        if (header.HeaderLength > Qcow2Header.Size)
            image.UnknownHeaderFields = cluster0[Qcow2Header.Size..(int)header.HeaderLength];

        if (header.BackingFileOffset > (ulong)clusterSize)
            throw Qcow2FormatException.ForField("Invalid backing file offset", H + ".BackingFileOffset", 8, header.BackingFileOffset,
                $"is beyond the cluster size {clusterSize}");

        Require(errors, nameof(Qcow2Header.CompressionType), $"qcow2: unknown compression type: {header.CompressionType}");
        var compressionBit = (header.IncompatibleFeatures & Features.CompressionType) != 0;
        if (header.CompressionType == 0 && compressionBit)
            throw Qcow2FormatException.ForField("qcow2: Compression type incompatible feature bit must not be set", H + ".IncompatibleFeatures", 72,
                Hex(header.IncompatibleFeatures), "has bit 3 set, but compression_type is 0 (zlib)");
        if (header.CompressionType != 0 && !compressionBit)
            throw Qcow2FormatException.ForField("qcow2: Compression type incompatible feature bit must be set", H + ".IncompatibleFeatures", 72,
                Hex(header.IncompatibleFeatures), $"lacks bit 3, but compression_type is {header.CompressionType}");

        var extensionEnd = header.BackingFileOffset != 0 ? (long)header.BackingFileOffset : clusterSize;
        var frames = HeaderExtensionArea.Split(cluster0, header.HeaderLength, extensionEnd, out var framingError);

        if (header.IncompatibleFeaturesUnknownBits != 0)
        {
            var names = FeatureNamesForError(header, frames, clusterSize);
            throw Qcow2FormatException.ForField(HeaderExtensionArea.DescribeUnsupported(names, header.IncompatibleFeaturesUnknownBits),
                H + ".IncompatibleFeatures", 72, Hex(header.IncompatibleFeatures), $"has bits outside the known mask {Hex(Features.KnownIncompatible)}");
        }
        if (writable && !forCheck && (header.IncompatibleFeatures & Features.Corrupt) != 0)
            throw Qcow2FormatException.ForField("qcow2: Image is corrupt; cannot be opened read/write", H + ".IncompatibleFeatures", 72,
                Hex(header.IncompatibleFeatures), "has the corrupt bit (1) set; open it read-only, or repair it with Qcow2Image.Check with Qcow2CheckRepair.All");

        if ((header.IncompatibleFeatures & Features.ExtendedL2) != 0 && clusterSize / 32 < Limits.MinSubclusterSize)
            throw Qcow2FormatException.ForField($"Unsupported subcluster size: {clusterSize / 32}", H + ".ClusterBits", 20, header.ClusterBits,
                "gives subclusters (cluster size / 32) smaller than 512 bytes with extended L2 entries");
        Require(errors, nameof(Qcow2Header.RefcountOrder), "Reference count entry width too large; may not exceed 64 bits");

        if (header.RefcountTableClusters == 0 && !forCheck)
            throw Qcow2FormatException.ForField("Image does not contain a reference count table", H + ".RefcountTableClusters", 56, 0, "must not be 0");
        if (header.RefcountTableClusters > Limits.MaxRefcountTableBytes / clusterSize)
            throw Qcow2FormatException.ForField("Reference count table too large", H + ".RefcountTableClusters", 56, header.RefcountTableClusters,
                $"clusters exceed {Limits.MaxRefcountTableBytes} bytes");
        CheckTableOffset(errors, header.RefcountTableOffset, (ulong)header.RefcountTableClusters * (ulong)clusterSize,
            "Reference count table offset invalid", nameof(Qcow2Header.RefcountTableOffset), 48);

        Require(errors, nameof(Qcow2Header.NbSnapshots), "Snapshot table too large");
        CheckTableOffset(errors, header.SnapshotsOffset, (ulong)header.NbSnapshots * SnapshotTableEntry.HeadSize,
            "Snapshot table offset invalid", nameof(Qcow2Header.SnapshotsOffset), 64);

        Require(errors, nameof(Qcow2Header.L1Size), "Active L1 table too large");
        CheckTableOffset(errors, header.L1TableOffset, (ulong)header.L1Size * sizeof(ulong),
            "Active L1 table offset invalid", nameof(Qcow2Header.L1TableOffset), 40);

        var geometry = new L1L2Geometry((int)header.ClusterBits, (header.IncompatibleFeatures & Features.ExtendedL2) != 0);
        var requiredL1 = geometry.RequiredL1Entries(header.VirtualSize);
        // Sizes beyond the block layer's limit (INT64_MAX rounded down to 1 GiB) need more than 4 Mi L1 entries with any cluster
        // size, so they fail here or at "L1 table is too small", as in QEMU.
        if (requiredL1 > int.MaxValue)
            throw Qcow2FormatException.ForField("Image is too big", H + ".VirtualSize", 24, header.VirtualSize,
                $"needs {requiredL1} L1 entries, more than {int.MaxValue}");
        if (header.L1Size < requiredL1)
            throw Qcow2FormatException.ForField("L1 table is too small", H + ".L1Size", 36, header.L1Size,
                $"entries cannot map the virtual size {header.VirtualSize}, which needs {requiredL1}");

        if (header.L1Size > 0)
            Addressable.Require(header.L1TableOffset, (ulong)header.L1Size * sizeof(ulong), "Could not read L1 table", H + ".L1TableOffset", 40);
        Require(errors, nameof(Qcow2Header.CryptMethod), $"Unsupported encryption method {(int)header.CryptMethod}");
        Addressable.Require(header.RefcountTableOffset, (ulong)header.RefcountTableClusters * (ulong)clusterSize,
            "Could not initialize refcount handling", H + ".RefcountTableOffset", 48);

        image.Header = header;
        var dropBitmaps = ReadExtensions(image, frames, clusterSize);
        if (framingError is not null)
            throw framingError;

        if ((header.IncompatibleFeatures & Features.ExternalDataFile) != 0)
        {
            // Like `qemu-img info`, a read-only open needs no data file name: the data file is never opened here.
            if (writable && image.DataFileName is null)
                throw Qcow2FormatException.ForField("'data-file' is required for this image", H + ".IncompatibleFeatures", 72,
                    Hex(header.IncompatibleFeatures), "has the external data file bit (2) set, but there is no data file name extension");
        }
        else if (writable && (header.AutoclearFeatures & Features.RawExternalData) != 0)
            throw Qcow2FormatException.ForField("data-file-raw requires a data file", H + ".AutoclearFeatures", 88,
                Hex(header.AutoclearFeatures), "has the raw external data bit (1) set without an external data file");

        if (header.CryptMethod == (uint)Qcow2EncryptionMethod.Luks && image.FullDiskEncryption is null)
            throw Qcow2FormatException.ForField("Missing CRYPTO header for crypt method 2", H + ".CryptMethod", 32, 2,
                "(LUKS) needs a full disk encryption header extension");

        if (header.BackingFileOffset != 0)
        {
            if (header.BackingFileSize > Math.Min(Limits.MaxNameSize, (ulong)clusterSize - header.BackingFileOffset))
                throw Qcow2FormatException.ForField("Backing file name too long", H + ".BackingFileSize", 16, header.BackingFileSize,
                    $"is more than min(1023, cluster size - backing_file_offset) = {Math.Min(Limits.MaxNameSize, (ulong)clusterSize - header.BackingFileOffset)}");
            image.BackingFileName = Encoding.UTF8.GetString(cluster0, (int)header.BackingFileOffset, (int)header.BackingFileSize);
        }

        image.Snapshots = SnapshotLoader.Load(storage, header.SnapshotsOffset, header.NbSnapshots);

        rewriteHeader = false;
        if (writable && (header.AutoclearFeatures & ~Features.KnownAutoclear) != 0)
        {
            image.Header.AutoclearFeatures &= Features.KnownAutoclear;
            rewriteHeader = true;
        }
        if (dropBitmaps)
            rewriteHeader |= writable;
        else if (image.BitmapsExtension is { } bitmaps)
            image.Bitmaps = BitmapLoader.Load(storage, bitmaps, clusterSize, image.VirtualSize);

        return image;
    }

    /// <summary>Interprets the extension frames in file order, as the second <c>qcow2_read_extensions</c> pass does. Returns whether an untrusted bitmaps extension must be dropped.</summary>
    private static bool ReadExtensions(ImageMetadata image, List<RawHeaderExtension> frames, long clusterSize)
    {
        var header = image.Header;
        var context = new ValidationContext().Set(ContextKeys.ClusterSize, clusterSize);
        var extensions = new List<Qcow2HeaderExtension>(frames.Count);
        // Set first, so that after a failure it holds the extensions read before it (see FeatureNamesForError).
        image.Extensions = extensions;
        var dropBitmaps = false;
        foreach (var frame in frames)
        {
            var dataOffset = frame.Offset + HeaderExtensionFrame.DataOffset;
            switch (frame.Magic)
            {
                case Qcow2BackingFormatExtension.MagicValue:
                    if (frame.Data.Length > Limits.MaxBackingFormatLength)
                        throw Qcow2FormatException.ForField($"ERROR: ext_backing_format: len={frame.Data.Length} too large (>=16)", "HeaderExtensionFrame.Length",
                            frame.Offset + 4, frame.Data.Length, "is not below 16 for a backing format extension");
                    var format = new Qcow2BackingFormatExtension(HeaderExtensionArea.DecodeString(frame.Data));
                    image.BackingFormat = format.Format;
                    extensions.Add(format);
                    break;

                case Qcow2FeatureNameTableExtension.MagicValue:
                    // Only listed: QEMU regenerates the table on every rewrite.
                    extensions.Add(Qcow2FeatureNameTableExtension.Decode(frame.Data));
                    break;

                case Qcow2BitmapsExtension.MagicValue:
                    if (frame.Data.Length != BitmapsExtensionData.Size)
                        throw Qcow2FormatException.ForField("bitmaps_ext: Invalid extension length", "HeaderExtensionFrame.Length", frame.Offset + 4,
                            frame.Data.Length, $"is not {BitmapsExtensionData.Size} for a bitmaps extension");
                    var data = BitmapsExtensionData.ReadUnchecked(frame.Data);
                    extensions.Add(new Qcow2BitmapsExtension(data));
                    if ((header.AutoclearFeatures & Features.Bitmaps) == 0)
                    {
                        image.Warnings.Add((header.Version < 3
                            ? "This qcow2 v2 image contains bitmaps, but they may have been modified by a program without persistent bitmap support; so now they must all be considered inconsistent"
                            : "a program lacking bitmap support modified this file, so all bitmaps are now considered inconsistent")
                            + ". Some clusters may be leaked, run 'qemu-img check -r' on the image file to fix (`qcow2 check -r leaks` reclaims them).");
                        image.BitmapsExtension = null;
                        dropBitmaps = true;
                        break;
                    }
                    CheckBitmapsExtension(data, data.Validate(context, dataOffset));
                    image.BitmapsExtension = data;
                    dropBitmaps = false;
                    break;

                case Qcow2FullDiskEncryptionExtension.MagicValue:
                    if (header.CryptMethod != (uint)Qcow2EncryptionMethod.Luks)
                        throw Qcow2FormatException.ForField("CRYPTO header extension only expected with LUKS encryption method", H + ".CryptMethod", 32,
                            header.CryptMethod, "is not 2 (LUKS), but a full disk encryption extension is present");
                    if (frame.Data.Length != FullDiskEncryptionExtensionData.Size)
                        throw Qcow2FormatException.ForField($"CRYPTO header extension size {frame.Data.Length}, but expected size 16", "HeaderExtensionFrame.Length",
                            frame.Offset + 4, frame.Data.Length, "is not 16 for a full disk encryption extension");
                    var fde = FullDiskEncryptionExtensionData.ReadUnchecked(frame.Data);
                    if (fde.Validate(context, dataOffset) is [var misaligned, ..])
                        throw Qcow2FormatException.FromRule($"Encryption header offset '{fde.Offset}' is not a multiple of cluster size '{clusterSize}'", misaligned);
                    image.FullDiskEncryption = fde;
                    extensions.Add(new Qcow2FullDiskEncryptionExtension(fde));
                    break;

                case Qcow2ExternalDataFileExtension.MagicValue:
                    var dataFile = new Qcow2ExternalDataFileExtension(HeaderExtensionArea.DecodeString(frame.Data));
                    image.DataFileName = dataFile.FileName;
                    extensions.Add(dataFile);
                    break;

                default:
                    var unknown = new Qcow2UnknownHeaderExtension(frame.Magic, frame.Data);
                    image.UnknownExtensions.Add(unknown);
                    extensions.Add(unknown);
                    break;
            }
        }
        return dropBitmaps;
    }

    /// <summary>
    /// QEMU names unknown incompatible bits from a first extension pass that stops at the first bad extension, keeping the
    /// last feature table seen before it. Replay that pass on a scratch copy.
    /// </summary>
    private static IReadOnlyList<Qcow2FeatureName>? FeatureNamesForError(Qcow2Header header, List<RawHeaderExtension> frames, long clusterSize)
    {
        var scratch = new ImageMetadata { Header = header };
        try
        {
            ReadExtensions(scratch, frames, clusterSize);
        }
        catch (Qcow2FormatException)
        {
            // The error itself does not matter here; QEMU ignores it too.
        }
        return scratch.Extensions.OfType<Qcow2FeatureNameTableExtension>().LastOrDefault()?.Features;
    }

    /// <summary>The checks <c>qcow2_read_extensions</c> makes on a trusted bitmaps extension, in its order (spec §3.1).</summary>
    private static void CheckBitmapsExtension(BitmapsExtensionData data, IReadOnlyList<BinaryFormatError> errors)
    {
        Require(errors, nameof(BitmapsExtensionData.Reserved32), "bitmaps_ext: Reserved field is not zero");
        if (data.NbBitmaps > Limits.MaxBitmaps)
            Require(errors, nameof(BitmapsExtensionData.NbBitmaps),
                $"bitmaps_ext: Image has {data.NbBitmaps} bitmaps, exceeding the QEMU supported maximum of {Limits.MaxBitmaps}");
        Require(errors, nameof(BitmapsExtensionData.NbBitmaps), "found bitmaps extension with zero bitmaps");
        Require(errors, nameof(BitmapsExtensionData.DirectoryOffset), "bitmaps_ext: invalid bitmap directory offset");
        if (data.DirectorySize > Limits.MaxBitmapDirectorySize)
            Require(errors, nameof(BitmapsExtensionData.DirectorySize),
                $"bitmaps_ext: bitmap directory size ({data.DirectorySize}) exceeds the maximum supported size ({Limits.MaxBitmapDirectorySize})");
        // A zero directory size is refused later, when the directory is loaded (QEMU's order).
    }

    /// <summary>QEMU's <c>qcow2_validate_table</c> offset rule: cluster-aligned, and offset + length must not pass INT64_MAX.</summary>
    private static void CheckTableOffset(IReadOnlyList<BinaryFormatError> errors, ulong offset, ulong length, string qemuMessage, string member, int fieldOffset)
    {
        if ((ulong)long.MaxValue - length < offset)
            throw Qcow2FormatException.ForField(qemuMessage, H + "." + member, fieldOffset, offset, $"plus the table length {length} exceeds INT64_MAX");
        Require(errors, member, qemuMessage);
    }

    /// <summary>Throws QEMU's message for the first declared-rule error on <paramref name="member"/>, if any.</summary>
    private static void Require(IReadOnlyList<BinaryFormatError> errors, string member, string qemuMessage)
    {
        foreach (var error in errors)
        {
            if (error.MemberPath == member)
                throw Qcow2FormatException.FromRule(qemuMessage, error);
        }
    }

    private static string Hex(ulong value) => "0x" + value.ToString("X", CultureInfo.InvariantCulture);
}
