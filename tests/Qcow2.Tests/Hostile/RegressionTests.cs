// The watchdogs block on purpose: a hung case must fail the test after its timeout, not hang the run.
#pragma warning disable xUnit1031
using System.Runtime.CompilerServices;
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Hostile;

/// <summary>
/// Inputs that once crashed, hung or were made worse by a repair (found by the AFL++ target in fuzz/ or by the mutation tests),
/// kept under Regressions/ as <c>.bin</c> files. A new finding is one more file there, with a name saying what it broke.
/// </summary>
public sealed class RegressionTests
{
    public static string Directory([CallerFilePath] string source = "") => Path.Combine(Path.GetDirectoryName(source)!, "Regressions");

    private static IEnumerable<string> Names() =>
        System.IO.Directory.GetFiles(Directory(), "*.bin").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal);

    public static TheoryData<string> Inputs()
    {
        var data = new TheoryData<string>();
        foreach (var name in Names())
            data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Every_operation_ends_in_a_result_or_a_format_exception(string name)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Directory(), name));
        using var dir = new TempDir();
        var path = dir.File("image.bin");
        foreach (var operation in HostileOperations.All)
        {
            File.WriteAllBytes(path, bytes);
            var work = Task.Run(() => HostileOperations.RunOne(operation, path));
            Assert.True(work.Wait(TimeSpan.FromSeconds(30)), $"{name}: {operation.Name} hangs");
            work.GetAwaiter().GetResult();
        }
    }

    [Fact]
    public void A_refcount_block_offset_past_INT64_MAX_is_a_check_error_not_a_crash()
    {
        using var dir = new TempDir();
        var path = dir.File("image.bin");
        File.Copy(Path.Combine(Directory(), "afl-compare-refcounts-block-offset-past-int64.bin"), path);
        using var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true, ForCheck = true });
        var result = image.Check(new Qcow2CheckOptions { Repair = Qcow2CheckRepair.All });
        Assert.True(result.ExitCode() is >= 0 and <= 3, $"exit {result.ExitCode()}");
        Assert.True(result.Findings.Count + result.RepairFindings.Count > 0, "the damage must be reported");
    }

    [Fact]
    public void A_refcount_table_over_the_header_is_rebuilt_where_it_can_be_reached_in_bounded_time()
    {
        using var dir = new TempDir();
        var path = dir.File("image.bin");
        File.Copy(Path.Combine(Directory(), "refcount-table-over-header-rebuild-hang.bin"), path);
        var work = Task.Run(() =>
        {
            using var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true, ForCheck = true });
            return image.Check(new Qcow2CheckOptions { Repair = Qcow2CheckRepair.All });
        });
        Assert.True(work.Wait(TimeSpan.FromSeconds(30)), "check -r all hangs");
        // The header's magic read as a refcount block offset (0x514649fb00000000) must not push the new structures (or the
        // file) out to exabytes: the file stays small.
        Assert.True(new FileInfo(path).Length < 1 << 20, $"file grew to {new FileInfo(path).Length} bytes");
        using var reopened = Qcow2Image.Open(path, new Qcow2OpenOptions { ForCheck = true });
        Assert.True(reopened.Check().Corruptions <= work.Result.Corruptions + work.Result.CorruptionsFixed);
    }

    [Theory]
    [InlineData("afl-slow-repair-grows-file-to-refcount-block-a.bin")]
    [InlineData("afl-slow-repair-grows-file-to-refcount-block-b.bin")]
    public void A_repair_does_not_grow_the_file_to_wherever_a_refcount_block_offset_says(string name)
    {
        // 512 KiB clusters with 1-bit refcounts: the refcount table 'reaches' 2^57 bytes, and check -r all used to grow the
        // file towards a block out there (seconds of work on a sparse file, or an ArgumentException where the file system
        // refuses the length).
        using var dir = new TempDir();
        var path = dir.File("image.bin");
        File.Copy(Path.Combine(Directory(), name), path);
        var started = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            using var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true, ForCheck = true });
            image.Check(new Qcow2CheckOptions { Repair = Qcow2CheckRepair.All });
        }
        catch (Qcow2FormatException)
        {
        }
        Assert.True(new FileInfo(path).Length <= new FileInfo(Path.Combine(Directory(), name)).Length + Limits.MaxRepairGrowth,
            $"the file grew to {new FileInfo(path).Length} bytes");
        // A hang guard, not a timing: generous enough for a loaded 2-core machine.
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(60), $"check -r all took {started.Elapsed}");
    }

    [QemuFact]
    public void Our_repair_leaves_no_more_corruptions_by_qemu_img_check_than_before()
    {
        using var dir = new TempDir();
        var path = dir.File("image.bin");
        Assert.NotEmpty(Names());
        foreach (var name in Names())
        {
            File.WriteAllBytes(path, File.ReadAllBytes(Path.Combine(Directory(), name)));
            var (exitBefore, before, _) = Qemu.CheckJson(path);
            try
            {
                using var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true, ForCheck = true });
                image.Check(new Qcow2CheckOptions { Repair = Qcow2CheckRepair.All });
            }
            catch (Qcow2FormatException)
            {
            }
            var (exitAfter, after, stderr) = Qemu.CheckJson(path);
            if (before is null || exitBefore == 1)
                continue;
            Assert.True(after is not null && exitAfter != 1, $"{name}: qemu-img check worked before our repair, not after: {stderr}");
            static long Corruptions(System.Text.Json.JsonElement j) => j.TryGetProperty("corruptions", out var v) ? v.GetInt64() : 0;
            Assert.True(Corruptions(after!.Value) <= Corruptions(before.Value), $"{name}: corruptions {Corruptions(before.Value)} -> {Corruptions(after.Value)}");
        }
    }
}
