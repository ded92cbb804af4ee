// The watchdogs block on purpose: a hung case must fail the test after its timeout, not hang the run.
#pragma warning disable xUnit1031
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Hostile;

/// <summary>
/// Names found in an image are followed only on request (<see cref="Qcow2Image.OpenBackingFile"/>), and then only when they are
/// plain file paths: a hostile image must not make the caller open a network connection or a file through a protocol or json: spec.
/// </summary>
public sealed class BackingFileTests
{
    private static string Overlay(TempDir dir, string name, string backing, string format = "qcow2")
    {
        var path = dir.File(name);
        Qemu.Img("create", "-f", "qcow2", "-u", "-b", backing, "-F", format, path, "1M").EnsureSuccess("qemu-img create overlay");
        return path;
    }

    [QemuFact]
    public void A_relative_backing_name_is_resolved_against_the_image_directory_not_the_working_directory()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("sub"));
        Qemu.Img("create", "-f", "qcow2", dir.File("sub/base.qcow2"), "3M").EnsureSuccess("qemu-img create base");
        var overlay = Overlay(dir, "sub/overlay.qcow2", "base.qcow2");
        // A decoy with the same name in the working directory must not be the one opened.
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "base.qcow2")));

        using var image = Qcow2Image.Open(overlay);
        using var backing = image.OpenBackingFile();
        Assert.NotNull(backing);
        Assert.Equal(dir.File("sub/base.qcow2"), backing.FileName);
        Assert.Equal(3L << 20, backing.VirtualSize);
        Assert.False(backing.IsWritable);
    }

    [QemuFact]
    public void An_absolute_backing_name_is_opened_with_the_given_options()
    {
        using var dir = new TempDir();
        var basePath = dir.File("base.qcow2");
        Qemu.Img("create", "-f", "qcow2", basePath, "2M").EnsureSuccess("qemu-img create base");
        using var image = Qcow2Image.Open(Overlay(dir, "overlay.qcow2", basePath));
        using var backing = image.OpenBackingFile(new Qcow2OpenOptions { Writable = true });
        Assert.NotNull(backing);
        Assert.True(backing.IsWritable);
        Assert.Equal(2L << 20, backing.VirtualSize);
    }

    [QemuFact]
    public void No_backing_file_gives_null()
    {
        using var dir = new TempDir();
        var path = dir.File("plain.qcow2");
        Qemu.Img("create", "-f", "qcow2", path, "1M").EnsureSuccess("qemu-img create");
        using var image = Qcow2Image.Open(path);
        Assert.Null(image.OpenBackingFile());
    }

    [QemuTheory]
    [InlineData("nbd:localhost:10809", "protocol prefix")]
    [InlineData("nbd+unix:///export?socket=/tmp/nbd.sock", "protocol prefix")]
    [InlineData("http://example.com/base.qcow2", "protocol prefix")]
    [InlineData("file:base.qcow2", "protocol prefix")]
    [InlineData("ssh://host/base.qcow2", "protocol prefix")]
    [InlineData("json:{\"driver\":\"file\",\"filename\":\"base.qcow2\"}", "json: specification")]
    public void Protocol_prefixes_and_json_specifications_are_refused_and_nothing_is_opened(string name, string why)
    {
        using var dir = new TempDir();
        // A real qcow2 file under the literal name too: refusing must not depend on the name failing to open.
        Qemu.Img("create", "-f", "qcow2", dir.File("base.qcow2"), "1M").EnsureSuccess("qemu-img create base");
        if (!name.Contains('/'))
            File.Copy(dir.File("base.qcow2"), dir.File(name));
        var overlay = Overlay(dir, "overlay.qcow2", name);

        using var image = Qcow2Image.Open(overlay);
        Assert.Equal(name, image.BackingFileName);
        var e = Assert.Throws<Qcow2FormatException>(() => image.OpenBackingFile());
        Assert.Contains(why, e.Message);
        Assert.Equal("BackingFileName", e.Field);
        Assert.Equal(name, e.Value);
    }

    [QemuFact]
    public void A_backing_format_other_than_qcow2_is_refused()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("base.raw"), new byte[4096]);
        using var image = Qcow2Image.Open(Overlay(dir, "overlay.qcow2", "base.raw", "raw"));
        var e = Assert.Throws<Qcow2FormatException>(() => image.OpenBackingFile());
        Assert.Equal("BackingFormat", e.Field);
    }

    [QemuFact]
    public void Opening_checking_and_info_never_touch_the_backing_file()
    {
        using var dir = new TempDir();
        // The backing name is a FIFO: opening it would block this test forever.
        var fifo = dir.File("fifo");
        Assert.Equal(0, Qemu.Run("mkfifo", fifo).ExitCode);
        var overlay = Overlay(dir, "overlay.qcow2", fifo);
        var work = Task.Run(() =>
        {
            using (var image = Qcow2Image.Open(overlay, new Qcow2OpenOptions { Writable = true, ForCheck = true }))
                Assert.Equal(0, image.Check(new Qcow2CheckOptions { Repair = Qcow2CheckRepair.All }).ExitCode());
            using (Qcow2Image.Open(overlay, new Qcow2OpenOptions { Writable = true })) { }
            Assert.Equal(0, Infrastructure.ToolRunner.Run("info", overlay).ExitCode);
            Assert.Equal(0, Infrastructure.ToolRunner.Run("check", overlay).ExitCode);
        });
        Assert.True(work.Wait(TimeSpan.FromSeconds(60)), "an operation blocked opening the backing file");
        work.GetAwaiter().GetResult();
    }

    [QemuFact]
    public void A_relative_name_in_an_image_opened_from_a_memory_stream_cannot_be_resolved()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(Overlay(dir, "overlay.qcow2", "base.qcow2"));
        using var image = Qcow2Image.Open(new MemoryStream(bytes));
        Assert.Throws<InvalidOperationException>(() => image.OpenBackingFile());
    }
}
