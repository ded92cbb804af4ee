using System.Buffers.Binary;
using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Check;

/// <summary>
/// A bitmap table entry that points past the end of the file. QEMU 7.2's <c>check -r all</c> fails on it (and its next
/// writable open quietly rewrites the bitmap with those bits clear); ours invalidates the bitmap, says so, and leaves an image
/// qemu-img finds clean. Reading or changing such a bitmap is refused, naming it and the entry.
/// </summary>
[Trait("Category", "Interop")]
public sealed class BitmapTableRepairTests
{
    [QemuFact]
    public void Check_repair_invalidates_the_bitmap_reports_it_and_ends_clean_by_qemu_img()
    {
        using var dir = new TempDir();
        var path = Broken(dir.File("x.qcow2"));
        Assert.Equal(2, Qemu.Img("check", path).ExitCode);

        var repair = ToolRunner.Run("check", "-r", "all", path);
        Assert.True(repair.ExitCode == 0, repair.StandardError + repair.StandardOutput);
        Assert.Contains("Repairing bitmap 'b1': table entry 0 pointed past the end of the file", repair.StandardError, StringComparison.Ordinal);
        Assert.Contains("1 corruptions", repair.StandardOutput, StringComparison.Ordinal);

        var after = Qemu.Img("check", path);
        Assert.True(after.ExitCode == 0, after.StandardError + after.StandardOutput);
        var bitmap = Qemu.InfoJson(path).GetProperty("format-specific").GetProperty("data").GetProperty("bitmaps")[0];
        Assert.Equal("b1", bitmap.GetProperty("name").GetString());
        Assert.Contains("in-use", bitmap.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
    }

    [QemuTheory]
    [InlineData("dump", null, "b1")]
    [InlineData("clear", null, "b1")]
    [InlineData("merge", "b1", "good")]
    [InlineData("merge", "good", "b1")]
    public void Reading_or_changing_the_bitmap_fails_naming_it_and_the_entry(string action, string? source, string target)
    {
        using var dir = new TempDir();
        var path = Broken(dir.File("x.qcow2"));
        var before = File.ReadAllBytes(path);
        string[] args = source is null ? ["bitmap", "--" + action, path, target] : ["bitmap", "--" + action, source, path, target];
        var line = ToolRunner.AssertSingleLineError(ToolRunner.Run(args));
        Assert.StartsWith($"qcow2: Operation {action} on bitmap {target} failed: Bitmap 'b1' is broken: its table entry 0 points to a data cluster past the end of the file", line);
        Assert.Contains("(BitmapTableEntry at offset ", line, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    /// <summary>64 MiB, bitmaps b1 and good with data after a 1 MiB write, and b1's first table entry moved 1 MiB past the end of the file.</summary>
    private static string Broken(string path)
    {
        Qemu.Img("create", "-q", "-f", "qcow2", path, "64M").EnsureSuccess("create");
        Qemu.Img("bitmap", "--add", path, "b1").EnsureSuccess("add");
        // Added now: a writable qemu-img open after the damage would rewrite b1 with the lost bits clear.
        Qemu.Img("bitmap", "--add", path, "good").EnsureSuccess("add");
        Qemu.Io("-f", "qcow2", "-c", "write 0 1M", path).EnsureSuccess("write");
        long tableOffset;
        using (var image = Qcow2Image.Open(path))
            tableOffset = image.Bitmaps[0].TableOffset;
        var bytes = File.ReadAllBytes(path);
        Assert.NotEqual(0UL, BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan((int)tableOffset)));
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan((int)tableOffset), (ulong)(bytes.Length + (1 << 20)) & ~0xFFFFUL);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
