using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.Format.ImageFiles;

namespace Qcow2.Tests.Format;

/// <summary>Header rewrites keep what they do not understand, lay cluster 0 out like QEMU, and fail without touching the file.</summary>
public sealed class UpdateHeaderTests
{
    private const uint FeatureTableMagic = 0x6803F857;
    private const uint BackingFormatMagic = 0xE2792ACA;
    private static readonly byte[] UnknownFields = [1, 2, 3, 4, 5, 6, 7, 8];

    [QemuTheory]
    [InlineData(120u)]
    [InlineData(115u)]
    [InlineData(104u)]
    public void Rewrite_keeps_unknown_fields_unknown_extension_and_backing_name_and_matches_qemu_amend(uint headerLength)
    {
        var unknownFields = UnknownFields[..Math.Max(0, (int)headerLength - 112)];
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        Qemu.Img("create", "-q", "-f", "raw", dir.File("base.img"), "64M").EnsureSuccess("create base");
        Qemu.Img("create", "-q", "-u", "-f", "qcow2", "-b", "base.img", "-F", "raw", path, "64M").EnsureSuccess("create");
        var featureTable = Extension(path, FeatureTableMagic);
        ComposeCluster0(path, headerLength, unknownFields,
            [(BackingFormatMagic, "raw"u8.ToArray()), (FeatureTableMagic, featureTable), (0x12345678, [9, 8, 7, 6, 5])], "base.img");
        var qemuCopy = dir.File("qemu.qcow2");
        File.Copy(path, qemuCopy);

        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var unknown = Assert.IsType<Qcow2UnknownHeaderExtension>(image.Extensions[2]);
            Assert.Equal(0x12345678u, unknown.Magic);
            Assert.Equal(new byte[] { 9, 8, 7, 6, 5 }, unknown.Data.ToArray());
            image.SetLazyRefcounts(true);
            Assert.True(image.LazyRefcounts);
        }
        Qemu.Img("amend", "-f", "qcow2", "-o", "lazy_refcounts=on", qemuCopy).EnsureSuccess("amend");

        Assert.Equal(ReadBytes(qemuCopy, 0, 65536), ReadBytes(path, 0, 65536));
        // A header_length of 104 is rewritten as 112; longer ones keep their unknown bytes.
        Assert.Equal(112u + (uint)unknownFields.Length, ReadU32(path, 100));
        Assert.Equal(unknownFields, ReadBytes(path, 112, unknownFields.Length));
        var info = Qemu.InfoJson(path);
        Assert.Equal("base.img", info.GetProperty("backing-filename").GetString());
        Assert.True(info.GetProperty("format-specific").GetProperty("data").GetProperty("lazy-refcounts").GetBoolean());
        Assert.Equal(0, Qemu.CheckJson(path).ExitCode);
    }

    [QemuFact]
    public void Several_unknown_extensions_keep_their_order_and_bytes()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M");
        var featureTable = Extension(path, FeatureTableMagic);
        byte[] first = [.. Enumerable.Range(0, 13).Select(i => (byte)i)];
        byte[] second = [.. Enumerable.Range(100, 24).Select(i => (byte)i)];
        ComposeCluster0(path, 112, [], [(0xAAAA0001, first), (FeatureTableMagic, featureTable), (0xAAAA0002, second)], null);

        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
            image.UpdateHeader();

        // Written back after the regenerated feature table, in the original order (QEMU would reverse them).
        var table = FindExtension(path, FeatureTableMagic);
        var a = FindExtension(path, 0xAAAA0001);
        var b = FindExtension(path, 0xAAAA0002);
        Assert.True(table < a && a < b);
        Assert.Equal(first, Extension(path, 0xAAAA0001));
        Assert.Equal(second, Extension(path, 0xAAAA0002));
        Assert.Equal(0, Qemu.CheckJson(path).ExitCode);
    }

    [QemuFact]
    public void A_v2_header_is_rewritten_as_72_bytes_identical_to_qemus()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        Qemu.Img("create", "-q", "-u", "-f", "qcow2", "-o", "compat=0.10", "-b", "base.img", "-F", "qcow2", path, "64M").EnsureSuccess("create");
        var before = File.ReadAllBytes(path);

        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var error = Assert.Throws<InvalidOperationException>(() => image.SetLazyRefcounts(true));
            Assert.StartsWith("Lazy refcounts only supported with compatibility level 1.1", error.Message);
            image.UpdateHeader();
        }
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [QemuFact]
    public void A_header_that_no_longer_fits_fails_and_leaves_the_file_byte_for_byte_unchanged()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M", "cluster_size=512");
        // header_length 104 opens, but a rewrite needs 112 bytes: 104 + 392 (extension) + 8 (END) + 8 (name) = 512 fills the cluster exactly.
        ComposeCluster0(path, 104, [], [(0xBBBB0001, new byte[384])], "12345678");
        var before = File.ReadAllBytes(path);

        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            Assert.Equal("12345678", image.BackingFileName);
            var error = Assert.Throws<Qcow2FormatException>(() => image.UpdateHeader());
            Assert.StartsWith("No space left in the file header", error.Message);
            Assert.Contains("512", error.Message);
            Assert.Throws<Qcow2FormatException>(() => image.SetLazyRefcounts(true));
            Assert.False(image.LazyRefcounts);
        }
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [QemuFact]
    public void Read_only_images_refuse_header_changes()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M");
        using var image = Qcow2Image.Open(path);
        Assert.Throws<InvalidOperationException>(() => image.UpdateHeader());
        Assert.Throws<InvalidOperationException>(() => image.SetLazyRefcounts(true));
    }

    [QemuFact]
    public void Lazy_refcounts_can_be_turned_off_again()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M", "lazy_refcounts=on");
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
            image.SetLazyRefcounts(false);
        Assert.False(Qemu.InfoJson(path).GetProperty("format-specific").GetProperty("data").GetProperty("lazy-refcounts").GetBoolean());
        Assert.Equal(0x514649FBu, ReadU32(path, 0));
    }
}
