using System.Security.Cryptography;
using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;
using Qcow2.Tool;

namespace Qcow2.Tests.Locking;

/// <summary>The library's side of the image locks: refusals, their words, force-share, release, and stream opens.</summary>
[Trait("Category", "Interop")]
public sealed class LockTests
{
    [QemuFact]
    public void A_second_writable_open_is_refused_with_qemu_img_words_until_the_first_is_closed()
    {
        using var dir = new TempDir();
        var path = LockMatrixTests.Prepare(dir.File("x.qcow2"));
        using (Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var e = Assert.Throws<Qcow2LockException>(() => Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }));
            Assert.Equal($"Failed to get \"write\" lock\nIs another process using the image [{path}]?", e.Message);
            Assert.Equal(path, e.ImagePath);
            Assert.IsAssignableFrom<Qcow2FormatException>(e);
            // The refusal qemu-img gives in the same place, line for line.
            Assert.Equal($"qemu-img: Could not open '{path}': {e.Message}\n", Qemu.Img("resize", path, "+1M").StandardError);

            var reader = Assert.Throws<Qcow2LockException>(() => Qcow2Image.Open(path));
            Assert.StartsWith("Failed to get shared \"write\" lock\n", reader.Message, StringComparison.Ordinal);
            using (Qcow2Image.Open(path, new Qcow2OpenOptions { ForceShare = true }))
            {
            }
        }
        using (Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            // Closing released the locks.
        }
    }

    [QemuFact]
    public void Force_share_is_only_for_read_only_opens_in_qemu_img_words()
    {
        using var dir = new TempDir();
        var path = LockMatrixTests.Prepare(dir.File("x.qcow2"));
        var e = Assert.Throws<ArgumentException>(() => Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true, ForceShare = true }));
        Assert.Equal($"qemu-img: Could not open '{path}': {e.Message}\n", Qemu.Img("check", "-U", "-r", "leaks", path).StandardError);
        using var stream = File.Open(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        Assert.Throws<ArgumentException>(() => Qcow2Image.Open(stream, new Qcow2OpenOptions { Writable = true, ForceShare = true, LeaveOpen = true }));
    }

    [QemuFact]
    public void A_stream_open_takes_no_lock()
    {
        using var dir = new TempDir();
        var path = LockMatrixTests.Prepare(dir.File("x.qcow2"));
        using var stream = File.Open(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        using (Qcow2Image.Open(stream, new Qcow2OpenOptions { Writable = true, LeaveOpen = true }))
            Assert.Equal(0, Qemu.Img("resize", path, "+1M").ExitCode);
        using (Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        using (Qcow2Image.Open(stream, new Qcow2OpenOptions { Writable = true, LeaveOpen = true }))
        {
            // Only the path open is locked; it does not see the stream.
        }
    }

    /// <summary>The operator's case from the issue: <c>qcow2 bitmap --add</c> on the disk of a running VM.</summary>
    [QemuFact]
    public void Bitmap_add_on_a_running_vm_disk_is_refused_and_leaves_the_image_untouched()
    {
        using var dir = new TempDir();
        var path = LockMatrixTests.Prepare(dir.File("vm.qcow2"));
        using var vm = new QemuIoHolder(path);
        var before = SHA256.HashData(File.ReadAllBytes(path));
        var line = ToolRunner.AssertSingleLineError(ToolRunner.Run("bitmap", "--add", path, "new"));
        Assert.Equal($"qcow2: Could not open '{path}': Failed to get \"write\" lock Is another process using the image [{path}]?", line);
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(path)));
    }

    /// <summary>Two of our processes (not only two opens in one process) exclude each other.</summary>
    [QemuFact]
    public void Our_tool_in_another_process_is_refused_while_we_write()
    {
        using var dir = new TempDir();
        var path = LockMatrixTests.Prepare(dir.File("x.qcow2"));
        var tool = typeof(Cli).Assembly.Location;
        using (Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var refused = Qemu.Run("dotnet", tool, "check", path);
            Assert.Equal(1, refused.ExitCode);
            Assert.Equal($"qcow2: Could not open '{path}': Failed to get shared \"write\" lock Is another process using the image [{path}]?\n", refused.StandardError);
            Assert.Equal(0, Qemu.Run("dotnet", tool, "check", "-U", path).ExitCode);
        }
        Assert.Equal(0, Qemu.Run("dotnet", tool, "resize", path, "+1M").ExitCode);
    }

    [Theory]
    [InlineData("info")]
    [InlineData("check")]
    [InlineData("bitmap")]
    public void Force_share_is_in_the_help_of_the_verbs_that_take_it(string verb)
    {
        Assert.Contains("-U, --force-share", ToolRunner.Run(verb, "--help").EnsureSuccess().StandardOutput, StringComparison.Ordinal);
    }
}
