using System.Text.Json;
using Qcow2.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Qcow2.Tests.Hostile;

/// <summary>
/// Repairs never make an image worse: on a sample of mutated images that qemu-img check finds damaged, what qemu-img check says
/// after our <c>Check(Repair = All)</c> has no more corruptions than before, and qemu-img can still check it.
/// </summary>
public sealed class RepairSafetyTests(ITestOutputHelper output)
{
    /// <summary>qemu-img is slow: 80 images by default (about 10 s); HOSTILE_REPAIR_SAMPLE=N for a deeper run.</summary>
    private static readonly int SampleSize = int.TryParse(Environment.GetEnvironmentVariable("HOSTILE_REPAIR_SAMPLE"), out var n) ? n : 80;

    private static (long Corruptions, long Leaks)? QemuCheck(string path)
    {
        var (exit, json, _) = Qemu.CheckJson(path);
        if (json is not { } j || exit is not (0 or 2 or 3))
            return null;
        long Get(string name) => j.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
        return (Get("corruptions"), Get("leaks"));
    }

    [QemuFact]
    public void Our_repair_of_a_damaged_image_leaves_no_more_corruptions_by_qemu_img_check_than_before()
    {
        using var dir = new TempDir();
        var path = dir.File("case.bin");
        var tried = 0;
        var repaired = 0;
        var problems = new List<string>();
        // Every 7th case of every seed until the sample is full: deterministic, and spread over all kinds of damage.
        foreach (var c in HostileSeeds.All.SelectMany(MutationFuzzTests.Cases).Where((_, i) => i % 5 == 3))
        {
            if (tried >= SampleSize)
                break;
            File.WriteAllBytes(path, c.Bytes);
            if (QemuCheck(path) is not { } before || before.Corruptions + before.Leaks == 0)
                continue;
            tried++;
            try
            {
                using var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true, ForCheck = true });
                image.Check(new Qcow2CheckOptions { Repair = Qcow2CheckRepair.All });
                repaired++;
            }
            catch (Qcow2FormatException)
            {
                // Refused to open: nothing was repaired; the file must still check the same below.
            }
            var after = QemuCheck(path);
            if (after is null)
                problems.Add($"HOSTILE_CASE={c.Id} ({c.Description}): qemu-img check could check it before ({before}) but not after our repair");
            else if (after.Value.Corruptions > before.Corruptions)
                problems.Add($"HOSTILE_CASE={c.Id} ({c.Description}): corruptions {before.Corruptions} -> {after.Value.Corruptions} after our repair");
        }
        output.WriteLine($"{tried} damaged images, {repaired} repaired by us");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.True(tried >= SampleSize / 2 && repaired >= tried / 2, $"{tried} damaged images found, {repaired} repaired: the sample exercises too little");
    }
}
