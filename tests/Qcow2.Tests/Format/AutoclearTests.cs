using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.Format.ImageFiles;

namespace Qcow2.Tests.Format;

/// <summary>Autoclear bits and the incompatible state bits on open (spec §3.2, §5).</summary>
public sealed class AutoclearTests
{
    private const uint BitmapsMagic = 0x23852875;

    [QemuFact]
    public void Bitmaps_extension_without_autoclear_bit_is_ignored_read_only_and_dropped_writable_like_qemu()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M");
        AddBitmap(path, "bm0");
        AddBitmap(path, "bm1");
        Assert.Equal(1ul, ReadU64(path, 88));
        WriteU64(path, 88, 0);
        var before = File.ReadAllBytes(path);

        using (var image = Qcow2Image.Open(path))
        {
            Assert.Empty(image.Bitmaps);
            var warning = Assert.Single(image.Warnings);
            Assert.Contains("a program lacking bitmap support modified this file, so all bitmaps are now considered inconsistent", warning);
            Assert.Contains("qcow2 check -r leaks", warning);
            Assert.Single(image.Extensions.OfType<Qcow2BitmapsExtension>());
        }
        Assert.Equal(before, File.ReadAllBytes(path));

        var qemuCopy = dir.File("qemu.qcow2");
        File.Copy(path, qemuCopy);
        Qemu.Io("-c", "read 0 512", qemuCopy).EnsureSuccess("qemu-io");

        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            Assert.Empty(image.Bitmaps);
            Assert.Empty(image.Extensions.OfType<Qcow2BitmapsExtension>());
        }
        Assert.Throws<InvalidOperationException>(() => FindExtension(path, BitmapsMagic));
        Assert.Equal(ReadBytes(qemuCopy, 0, 65536), ReadBytes(path, 0, 65536));

        // The directory and the tables are now leaked: check reports leaks only (exit 3), and `-r leaks` reclaims them.
        var (exitCode, json, _) = Qemu.CheckJson(path);
        Assert.Equal(3, exitCode);
        Assert.True(json!.Value.GetProperty("leaks").GetInt32() > 0);
        Qemu.Img("check", "-r", "leaks", "-f", "qcow2", path).EnsureSuccess("check -r leaks");
        using var repaired = Qcow2Image.Open(path);
        Assert.Empty(repaired.Warnings);
    }

    [QemuFact]
    public void Unknown_autoclear_bits_are_kept_read_only_and_cleared_by_one_rewrite_when_writable()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M");
        WriteU64(path, 88, 0x100);
        var before = File.ReadAllBytes(path);
        using (var image = Qcow2Image.Open(path))
            Assert.Equal(0x100ul, (ulong)image.AutoclearFeatures);
        Assert.Equal(before, File.ReadAllBytes(path));

        var qemuCopy = dir.File("qemu.qcow2");
        File.Copy(path, qemuCopy);
        Qemu.Io("-c", "read 0 512", qemuCopy).EnsureSuccess("qemu-io");
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
            Assert.Equal(Qcow2AutoclearFeatures.None, image.AutoclearFeatures);
        Assert.Equal(0ul, ReadU64(path, 88));
        Assert.Equal(File.ReadAllBytes(qemuCopy), File.ReadAllBytes(path));
    }

    [QemuFact]
    public void Known_autoclear_bits_survive_a_writable_open_with_bitmaps_untouched()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M");
        AddBitmap(path, "bm0");
        WriteU64(path, 88, 0x8001);
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            Assert.Equal(Qcow2AutoclearFeatures.Bitmaps, image.AutoclearFeatures);
            var bitmap = Assert.Single(image.Bitmaps);
            Assert.False(bitmap.InUse);
        }
        Assert.Equal(1ul, ReadU64(path, 88));
        using (var reopened = Qcow2Image.Open(path))
            AssertAgreesWithQemu(reopened, Qemu.InfoJson(path));
        Assert.Equal(0, Qemu.CheckJson(path).ExitCode);
    }

    [QemuFact]
    public void Corrupt_images_open_read_only_only()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M");
        WriteU64(path, 72, 0x2);
        using (var image = Qcow2Image.Open(path))
            Assert.True(image.IsCorrupt);
        var error = Assert.Throws<Qcow2FormatException>(() => Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }));
        Assert.StartsWith("qcow2: Image is corrupt; cannot be opened read/write", error.Message);
        Assert.Equal("Qcow2Header.IncompatibleFeatures", error.Field);
    }

    [QemuFact]
    public void Dirty_images_open_read_only_untouched_and_a_writable_open_repairs_them_first()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M");
        WriteU64(path, 72, 0x1);
        WriteU64(path, 88, 0x100);
        var before = File.ReadAllBytes(path);
        using (var image = Qcow2Image.Open(path))
        {
            Assert.True(image.IsDirty);
            AssertAgreesWithQemu(image, Qemu.InfoJson(path));
        }
        Assert.Equal(before, File.ReadAllBytes(path));

        // As QEMU does, a writable open repairs a dirty image before anything else, then clears the dirty bit.
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            Assert.False(image.IsDirty);
            Assert.Contains(image.Warnings, w => w.Contains("dirty", StringComparison.Ordinal));
        }
        Assert.Equal(0, Qemu.Img("check", path).ExitCode);
        Assert.False(Qemu.InfoJson(path).GetProperty("dirty-flag").GetBoolean());
    }

    [QemuFact]
    public void Data_file_bits_without_a_data_file_are_refused_only_for_writing()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M");
        WriteU64(path, 72, 0x4);
        using (Qcow2Image.Open(path)) { }
        Assert.StartsWith("'data-file' is required for this image",
            Assert.Throws<Qcow2FormatException>(() => Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true })).Message);

        WriteU64(path, 72, 0);
        WriteU64(path, 88, 0x2);
        using (var image = Qcow2Image.Open(path))
            Assert.True(image.DataFileRaw);
        Assert.StartsWith("data-file-raw requires a data file",
            Assert.Throws<Qcow2FormatException>(() => Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true })).Message);
    }
}
