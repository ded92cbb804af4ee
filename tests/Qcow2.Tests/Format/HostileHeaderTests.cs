using System.Text;
using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.Format.ImageFiles;

namespace Qcow2.Tests.Format;

/// <summary>
/// One case per reject class of spec §10 rows 1–14: each hostile edit of a qemu-img image is refused with a
/// <see cref="Qcow2FormatException"/> that starts with QEMU's message and names the field. Where QEMU refuses too, its
/// stderr must contain the same QEMU text.
/// </summary>
public sealed class HostileHeaderTests
{
    private const uint BitmapsMagic = 0x23852875;
    private const uint FeatureTableMagic = 0x6803F857;
    private const uint BackingFormatMagic = 0xE2792ACA;
    private const uint CryptoMagic = 0x0537BE77;

    private sealed record Case(Func<TempDir, string> Make, string Message, string Field, bool QemuRejects = true);

    private static string Plain(TempDir dir) => QemuCreate(dir, "a.qcow2", "64M");

    private static Func<TempDir, string> Edit(Action<string> edit) => dir =>
    {
        var path = Plain(dir);
        edit(path);
        return path;
    };

    private static Func<TempDir, string> EditBitmaps(Action<string, long, long> edit, string createOptions = "cluster_size=65536", params string[] addOptions) => dir =>
    {
        var path = QemuCreate(dir, "a.qcow2", "64M", createOptions);
        AddBitmap(path, "bm0", addOptions);
        var ext = FindExtension(path, BitmapsMagic);
        edit(path, ext + 8, (long)ReadU64(path, ext + 8 + 16));
        return path;
    };

    private static Func<TempDir, string> Compose(uint headerLength, uint crypt, params (uint, byte[])[] extensions) => dir =>
    {
        var path = Plain(dir);
        WriteU32(path, 32, crypt);
        ComposeCluster0(path, headerLength, [], extensions, null);
        return path;
    };

    private static byte[] Fde(ulong offset, ulong length)
    {
        var data = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(data, offset);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(8), length);
        return data;
    }

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // Row 1: header length and short headers.
        ["1 header_length < 104"] = new(Edit(p => WriteU32(p, 100, 100)), "qcow2 header too short", "Qcow2Header.HeaderLength"),
        ["1 header_length > cs"] = new(Edit(p => WriteU32(p, 100, 65537)), "qcow2 header exceeds cluster size", "Qcow2Header.HeaderLength"),
        ["1 file shorter than the header"] = new(Edit(p => { using var f = File.OpenWrite(p); f.SetLength(24); }), "qcow2 header too short", "Qcow2Header.HeaderLength"),
        ["1 wrong magic"] = new(Edit(p => WriteU32(p, 0, 0x514649FC)), "Image is not in qcow2 format", "Qcow2Header.Magic", QemuRejects: false),
        ["1 version 4"] = new(Edit(p => WriteU32(p, 4, 4)), "Unsupported qcow2 version 4", "Qcow2Header.Version"),
        // Row 2: backing file offset and name.
        ["2 backing offset > cs"] = new(Edit(p => WriteU64(p, 8, 65537)), "Invalid backing file offset", "Qcow2Header.BackingFileOffset"),
        ["2 backing name > 1023"] = new(Edit(p => { WriteU64(p, 8, 4096); WriteU32(p, 16, 1024); }), "Backing file name too long", "Qcow2Header.BackingFileSize"),
        ["2 backing name past cluster 0"] = new(Edit(p => { WriteU64(p, 8, 65000); WriteU32(p, 16, 537); }), "Backing file name too long", "Qcow2Header.BackingFileSize"),
        // Row 3: extension framing.
        ["3 extension length past the area"] = new(Edit(p => WriteU32(p, 116, 0xFFFFFFF0)), "Header extension too large", "HeaderExtensionFrame.Data"),
        ["3 length checked before the END magic"] = new(Edit(p => WriteU32(p, 100, 108)), "Header extension too large", "HeaderExtensionFrame.Data"),
        ["3 frame crosses the backing offset"] = new(Edit(p => { WriteU64(p, 8, 116); WriteU32(p, 16, 4); }), "Header extension too large", "HeaderExtensionFrame"),
        // Row 4: backing format and FDE pointer.
        ["4 backing format >= 16 bytes"] = new(Compose(112, 0, (BackingFormatMagic, Encoding.ASCII.GetBytes("sixteen-bytes-xx"))), "ERROR: ext_backing_format: len=16 too large (>=16)", "HeaderExtensionFrame.Length"),
        ["4 FDE without LUKS"] = new(Compose(112, 0, (CryptoMagic, Fde(0x10000, 4096))), "CRYPTO header extension only expected with LUKS encryption method", "Qcow2Header.CryptMethod"),
        ["4 FDE not 16 bytes"] = new(Compose(112, 2, (CryptoMagic, new byte[8])), "CRYPTO header extension size 8, but expected size 16", "HeaderExtensionFrame.Length", QemuRejects: false),
        ["4 FDE unaligned"] = new(Compose(112, 2, (CryptoMagic, Fde(512, 4096))), "Encryption header offset '512' is not a multiple of cluster size '65536'", "FullDiskEncryptionExtensionData.Offset", QemuRejects: false),
        // Row 5: cluster bits, refcount order, subclusters.
        ["5 cluster_bits 8"] = new(Edit(p => WriteU32(p, 20, 8)), "Unsupported cluster size: 2^8", "Qcow2Header.ClusterBits"),
        ["5 cluster_bits 22"] = new(Edit(p => WriteU32(p, 20, 22)), "Unsupported cluster size: 2^22", "Qcow2Header.ClusterBits"),
        ["5 refcount_order 7"] = new(Edit(p => WriteU32(p, 96, 7)), "Reference count entry width too large; may not exceed 64 bits", "Qcow2Header.RefcountOrder"),
        ["5 subcluster 256"] = new(dir => { var p = QemuCreate(dir, "a.qcow2", "64M", "cluster_size=8192"); WriteU64(p, 72, 0x10); return p; }, "Unsupported subcluster size: 256", "Qcow2Header.ClusterBits"),
        // Row 6: L1.
        ["6 l1_size > 4 Mi"] = new(Edit(p => WriteU32(p, 36, 4194305)), "Active L1 table too large", "Qcow2Header.L1Size"),
        ["6 l1 offset unaligned"] = new(Edit(p => WriteU64(p, 40, 0x30200)), "Active L1 table offset invalid", "Qcow2Header.L1TableOffset"),
        ["6 l1 offset overflows"] = new(Edit(p => { WriteU32(p, 36, 8192); WriteU64(p, 40, 0x7FFFFFFFFFFF0000); }), "Active L1 table offset invalid", "Qcow2Header.L1TableOffset"),
        ["6 l1 beyond the readable range"] = new(Edit(p => WriteU64(p, 40, 0x7FFFFFFFFFF00000)), "Could not read L1 table: Input/output error", "Qcow2Header.L1TableOffset"),
        ["6 l1 too small"] = new(Edit(p => WriteU32(p, 36, 0)), "L1 table is too small", "Qcow2Header.L1Size"),
        // Row 7: refcount table.
        ["7 reftable > 8 MiB"] = new(Edit(p => WriteU32(p, 56, 129)), "Reference count table too large", "Qcow2Header.RefcountTableClusters"),
        ["7 reftable unaligned"] = new(Edit(p => WriteU64(p, 48, 0x10008)), "Reference count table offset invalid", "Qcow2Header.RefcountTableOffset"),
        ["7 reftable overflows"] = new(Edit(p => WriteU64(p, 48, 0x7FFFFFFFFFFF0000)), "Reference count table offset invalid", "Qcow2Header.RefcountTableOffset"),
        ["7 reftable beyond the readable range"] = new(Edit(p => WriteU64(p, 48, 0x7FFFFFFFFFF00000)), "Could not initialize refcount handling: Input/output error", "Qcow2Header.RefcountTableOffset"),
        ["7 no reftable"] = new(Edit(p => WriteU32(p, 56, 0)), "Image does not contain a reference count table", "Qcow2Header.RefcountTableClusters"),
        // Row 8: snapshot table.
        ["8 too many snapshots"] = new(Edit(p => WriteU32(p, 60, 65537)), "Snapshot table too large", "Qcow2Header.NbSnapshots"),
        ["8 snapshot table unaligned"] = new(Edit(p => { WriteU32(p, 60, 1); WriteU64(p, 64, 0x40100); }), "Snapshot table offset invalid", "Qcow2Header.SnapshotsOffset"),
        ["8 snapshot table beyond the readable range"] = new(Edit(p => { WriteU32(p, 60, 1); WriteU64(p, 64, 0x7FFFFFFFFFF00000); }), "Failed to read snapshot table: Input/output error", "Qcow2Header.SnapshotsOffset"),
        ["8 extra data > 1024"] = new(Snapshot((p, entry) => WriteU32(p, entry + 36, 1025)), "Too much extra metadata in snapshot table entry 0", "SnapshotTableEntry.ExtraDataSize"),
        ["8 snapshot table > 64 MiB"] = new(HugeSnapshotTable, "Snapshot table is too big", "Qcow2Header.NbSnapshots"),
        // Row 9: virtual size.
        ["9 L1 index beyond INT_MAX"] = new(Edit(p => WriteU64(p, 24, 0x7FFFFFFFC0000000)), "Image is too big", "Qcow2Header.VirtualSize"),
        // Row 10: incompatible features and compression type.
        ["10 unknown incompat bit"] = new(Edit(p => WriteU64(p, 72, 0x120)), "Unsupported qcow2 feature(s): Unknown incompatible feature: 120", "Qcow2Header.IncompatibleFeatures"),
        ["10 unknown incompat bit with a name"] = new(NamedFutureFeature, "Unsupported qcow2 feature(s): future feature, Unknown incompatible feature: 40", "Qcow2Header.IncompatibleFeatures"),
        ["10 unknown compression type"] = new(Edit(p => { WriteU64(p, 72, 0x8); WriteBytes(p, 104, [2]); }), "qcow2: unknown compression type: 2", "Qcow2Header.CompressionType"),
        ["10 zstd without its bit"] = new(Edit(p => WriteBytes(p, 104, [1])), "qcow2: Compression type incompatible feature bit must be set", "Qcow2Header.IncompatibleFeatures"),
        ["10 bit without zstd"] = new(Edit(p => WriteU64(p, 72, 0x8)), "qcow2: Compression type incompatible feature bit must not be set", "Qcow2Header.IncompatibleFeatures"),
        // Row 11: encryption method.
        ["11 crypt_method 3"] = new(Edit(p => WriteU32(p, 32, 3)), "Unsupported encryption method 3", "Qcow2Header.CryptMethod"),
        ["11 LUKS without FDE"] = new(Edit(p => WriteU32(p, 32, 2)), "Missing CRYPTO header for crypt method 2", "Qcow2Header.CryptMethod", QemuRejects: false),
        // Row 12: bitmaps extension.
        ["12 bitmaps length != 24"] = new(Compose(112, 0, (BitmapsMagic, new byte[16])), "bitmaps_ext: Invalid extension length", "HeaderExtensionFrame.Length"),
        ["12 bitmaps reserved"] = new(EditBitmaps((p, ext, _) => WriteU32(p, ext + 4, 1)), "bitmaps_ext: Reserved field is not zero", "BitmapsExtensionData.Reserved32"),
        ["12 zero bitmaps"] = new(EditBitmaps((p, ext, _) => WriteU32(p, ext, 0)), "found bitmaps extension with zero bitmaps", "BitmapsExtensionData.NbBitmaps"),
        ["12 65536 bitmaps"] = new(EditBitmaps((p, ext, _) => WriteU32(p, ext, 65536)), "bitmaps_ext: Image has 65536 bitmaps, exceeding the QEMU supported maximum of 65535", "BitmapsExtensionData.NbBitmaps"),
        ["12 directory unaligned"] = new(EditBitmaps((p, ext, dir) => WriteU64(p, ext + 16, (ulong)dir + 8)), "bitmaps_ext: invalid bitmap directory offset", "BitmapsExtensionData.DirectoryOffset"),
        ["12 directory beyond the readable range"] = new(EditBitmaps((p, ext, _) => WriteU64(p, ext + 16, 0x8000000000000000)), "Failed to read bitmap directory: Input/output error", "BitmapsExtensionData.DirectoryOffset"),
        ["12 directory size 0"] = new(EditBitmaps((p, ext, _) => WriteU64(p, ext + 8, 0)), "Requested bitmap directory size is zero", "BitmapsExtensionData.DirectorySize"),
        ["12 directory too large"] = new(EditBitmaps((p, ext, _) => WriteU64(p, ext + 8, 67107841)), "bitmaps_ext: bitmap directory size (67107841) exceeds the maximum supported size (67107840)", "BitmapsExtensionData.DirectorySize"),
        ["12 directory size not the sum"] = new(EditBitmaps((p, ext, _) => WriteU64(p, ext + 8, ReadU64(p, ext + 8) + 8)), "Broken bitmap directory", "BitmapDirectoryEntry"),
        ["12 fewer entries than nb"] = new(EditBitmaps((p, ext, _) => WriteU32(p, ext, 2)), "Less bitmaps found than specified in header extension", "BitmapsExtensionData.NbBitmaps"),
        // Row 13: bitmap directory entries.
        ["13 table offset 0"] = new(EditBitmaps((p, _, e) => WriteU64(p, e, 0)), "Bitmap 'bm0' doesn't satisfy the constraints", "BitmapDirectoryEntry.TableOffset"),
        ["13 table offset unaligned"] = new(EditBitmaps((p, _, e) => WriteU64(p, e, ReadU64(p, e) + 512)), "Bitmap 'bm0' doesn't satisfy the constraints", "BitmapDirectoryEntry.TableOffset"),
        ["13 table size 0"] = new(EditBitmaps((p, _, e) => WriteU32(p, e + 8, 0)), "Bitmap 'bm0' doesn't satisfy the constraints", "BitmapDirectoryEntry.TableSize"),
        ["13 table size > 0x8000000"] = new(EditBitmaps((p, _, e) => WriteU32(p, e + 8, 0x8000001)), "Bitmap 'bm0' doesn't satisfy the constraints", "BitmapDirectoryEntry.TableSize"),
        ["13 table bytes > 512 MiB"] = new(EditBitmaps((p, _, e) => WriteU32(p, e + 8, 8193)), "Bitmap 'bm0' doesn't satisfy the constraints", "BitmapDirectoryEntry.TableSize"),
        ["13 granularity 8"] = new(EditBitmaps((p, _, e) => WriteBytes(p, e + 17, [8])), "Bitmap 'bm0' doesn't satisfy the constraints", "BitmapDirectoryEntry.GranularityBits"),
        ["13 granularity 32"] = new(EditBitmaps((p, _, e) => WriteBytes(p, e + 17, [32])), "Bitmap 'bm0' doesn't satisfy the constraints", "BitmapDirectoryEntry.GranularityBits"),
        ["13 reserved flag"] = new(EditBitmaps((p, _, e) => WriteU32(p, e + 12, 4 | ReadU32(p, e + 12))), "Bitmap 'bm0' doesn't satisfy the constraints", "BitmapDirectoryEntry.Flags"),
        ["13 type 2"] = new(EditBitmaps((p, _, e) => WriteBytes(p, e + 16, [2])), "Bitmap 'bm0' doesn't satisfy the constraints", "BitmapDirectoryEntry.Type"),
        ["13 extra data"] = new(EditBitmaps((p, ext, e) => { WriteU32(p, e + 20, 8); WriteU64(p, ext + 8, 40); }), "Bitmap extra data is not supported", "BitmapDirectoryEntry.ExtraDataSize"),
        ["13 table does not cover the disk"] = new(EditBitmaps((p, _, e) => WriteBytes(p, e + 17, [9]), "cluster_size=512"), "Bitmap 'bm0' doesn't satisfy the constraints", "BitmapDirectoryEntry.TableSize"),
        ["13 table size not exact"] = new(EditBitmaps((p, _, e) => WriteU32(p, e + 8, 2)), "Could not read bitmap 'bm0' from image: Invalid argument", "BitmapDirectoryEntry.TableSize"),
        ["13 table beyond the readable range"] = new(EditBitmaps((p, _, e) => WriteU64(p, e, 0xFFFFFFFFFFFF0000)), "Could not read bitmap_table table from image for bitmap 'bm0': Input/output error", "BitmapDirectoryEntry.TableOffset"),
        ["13 duplicate names"] = new(DuplicateBitmapNames, "Bitmap already exists: bm0", "BitmapDirectoryEntry.Name"),
        // Row 14: bitmap table entries (the bitmap needs a data cluster, so it is written to first).
        ["14 table entry reserved bits"] = new(BitmapTableEntry(v => v | 0x0100000000000000), "Could not read bitmap_table table from image for bitmap 'bm0': Invalid argument", "BitmapTableEntry"),
        ["14 table entry unaligned"] = new(BitmapTableEntry(v => v + 512), "Could not read bitmap_table table from image for bitmap 'bm0': Invalid argument", "BitmapTableEntry"),
        ["14 table entry all-ones with offset"] = new(BitmapTableEntry(v => v | 1), "Could not read bitmap_table table from image for bitmap 'bm0': Invalid argument", "BitmapTableEntry"),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [QemuTheory]
    [MemberData(nameof(CaseNames))]
    public void Hostile_header_is_refused_with_qemus_message_and_the_field(string name)
    {
        var test = Cases[name];
        using var dir = new TempDir();
        var path = test.Make(dir);

        var error = Assert.Throws<Qcow2FormatException>(() => Qcow2Image.Open(path).Dispose());
        Assert.StartsWith(test.Message, error.Message);
        Assert.Equal(test.Field, error.Field);
        Assert.Contains(test.Field, error.Message);
        Assert.NotNull(error.Value);

        if (test.QemuRejects)
        {
            var qemu = Qemu.Img("info", "-f", "qcow2", path);
            Assert.NotEqual(0, qemu.ExitCode);
            Assert.Contains(test.Message, qemu.StandardError);
        }
    }

    [QemuFact]
    public void A_bad_snapshot_L1_opens_as_in_qemu_and_is_left_to_check()
    {
        using var dir = new TempDir();
        var path = Snapshot((p, entry) => { WriteU64(p, entry, ReadU64(p, entry) + 512); WriteU32(p, entry + 8, 4194305); })(dir);
        using var image = Qcow2Image.Open(path);
        var snapshot = Assert.Single(image.Snapshots);
        Assert.NotEqual(0, snapshot.L1TableOffset % image.ClusterSize);
        Assert.Equal(4194305, snapshot.L1Size);
        Assert.Equal(0, Qemu.Img("info", "-f", "qcow2", path).ExitCode);
    }

    [QemuFact]
    public void A_last_extension_whose_padding_passes_the_area_end_opens_as_in_qemu()
    {
        using var dir = new TempDir();
        var path = Plain(dir);
        ComposeCluster0(path, 112, [], [(0x12345678, "hello"u8.ToArray())], null);
        // The area ends at the (empty) backing file name right after the 5 data bytes: no END marker, no room for padding.
        WriteU64(path, 8, 112 + 8 + 5);
        using (var image = Qcow2Image.Open(path))
        {
            var extension = Assert.IsType<Qcow2UnknownHeaderExtension>(Assert.Single(image.Extensions));
            Assert.Equal("hello"u8.ToArray(), extension.Data.ToArray());
        }
        Assert.Equal(0, Qemu.Img("info", "-f", "qcow2", path).ExitCode);
    }

    private static Func<TempDir, string> Snapshot(Action<string, long> edit) => dir =>
    {
        var path = Plain(dir);
        Qemu.Img("snapshot", "-c", "s1", path).EnsureSuccess("snapshot");
        edit(path, (long)ReadU64(path, 64));
        return path;
    };

    /// <summary>1024 entries whose names claim 65535 bytes each: the table passes 64 MiB at the last one (a sparse file).</summary>
    private static string HugeSnapshotTable(TempDir dir)
    {
        var path = Plain(dir);
        const long tableOffset = 1L << 20;
        var entry = new byte[40];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(entry.AsSpan(14), 65535);
        for (var i = 0L; i < 1024; i++)
            WriteBytes(path, tableOffset + i * (40 + 65536), entry);
        WriteU32(path, 60, 1024);
        WriteU64(path, 64, tableOffset);
        return path;
    }

    private static string NamedFutureFeature(TempDir dir)
    {
        var path = Plain(dir);
        var table = Extension(path, FeatureTableMagic);
        var entry = new byte[48];
        entry[0] = 0;
        entry[1] = 5;
        "future feature"u8.CopyTo(entry.AsSpan(2));
        ComposeCluster0(path, 112, [], [(FeatureTableMagic, [.. table, .. entry])], null);
        WriteU64(path, 72, 0x60);
        return path;
    }

    [QemuFact]
    public void Feature_names_come_only_from_tables_before_the_first_bad_extension_as_in_qemu()
    {
        using var dir = new TempDir();
        var path = Plain(dir);
        var entry = new byte[48];
        entry[1] = 5;
        "future feature"u8.CopyTo(entry.AsSpan(2));
        // QEMU's naming pass stops at the oversized backing format, so the table after it is never seen.
        ComposeCluster0(path, 112, [], [(BackingFormatMagic, new byte[16]), (FeatureTableMagic, entry)], null);
        WriteU64(path, 72, 0x20);
        const string expected = "Unsupported qcow2 feature(s): Unknown incompatible feature: 20";
        Assert.StartsWith(expected, Assert.Throws<Qcow2FormatException>(() => Qcow2Image.Open(path)).Message);
        Assert.Contains(expected, Qemu.Img("info", "-f", "qcow2", path).StandardError);
    }

    private static string DuplicateBitmapNames(TempDir dir)
    {
        var path = Plain(dir);
        AddBitmap(path, "bm0");
        AddBitmap(path, "bm1");
        var ext = FindExtension(path, BitmapsMagic);
        var directory = (long)ReadU64(path, ext + 8 + 16);
        // Both entries are 32 bytes (24 + "bmX" padded); rename the second to bm0.
        WriteBytes(path, directory + 32 + 24, "bm0"u8);
        return path;
    }

    private static Func<TempDir, string> BitmapTableEntry(Func<ulong, ulong> change) => dir =>
    {
        var path = Plain(dir);
        AddBitmap(path, "bm0");
        Qemu.Io("-c", "write 0 64k", path).EnsureSuccess("qemu-io write");
        var ext = FindExtension(path, BitmapsMagic);
        var directory = (long)ReadU64(path, ext + 8 + 16);
        var table = (long)ReadU64(path, directory);
        var value = ReadU64(path, table);
        Assert.NotEqual(0ul, value);
        WriteU64(path, table, change(value));
        return path;
    };
}
