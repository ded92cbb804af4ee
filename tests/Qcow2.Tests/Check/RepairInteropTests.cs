using System.Text.Json;
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Check;

/// <summary>
/// <c>qcow2 check -r leaks|all</c> against <c>qemu-img check -r</c> on separate copies of each damaged image: the same exit
/// code, counts (JSON) and output; and after our repair <c>qemu-img check</c> finds the image clean and the guest data unchanged.
/// </summary>
public sealed class RepairInteropTests
{
    public static TheoryData<string, string> Cases => CheckScenarios.RepairCases();

    [QemuTheory]
    [MemberData(nameof(Cases))]
    public void Repair_matches_qemu_img_and_leaves_a_clean_image(string name, string mode)
    {
        var scenario = CheckScenarios.Get(name);
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        var verifyData = scenario.Build(dir, image);

        var qemuJsonCopy = CheckRunner.Copy(dir, image, "qemu-json.qcow2");
        var oursJsonCopy = CheckRunner.Copy(dir, image, "ours-json.qcow2");
        var qemuHumanCopy = CheckRunner.Copy(dir, image, "qemu-human.qcow2");
        var oursHumanCopy = CheckRunner.Copy(dir, image, "ours-human.qcow2");

        var qemuJson = CheckRunner.QemuImg(qemuJsonCopy, json: true, mode);
        var oursJson = CheckRunner.Ours(oursJsonCopy, json: true, mode);
        Assert.True(qemuJson.ExitCode == oursJson.ExitCode, $"exit codes differ\n{qemuJson}\n{oursJson}");

        // A rebuild places the new refcount structures elsewhere than QEMU does (on purpose, see ImageCheck), so the end offset
        // may differ; it must then be what qemu-img itself reports for our repaired image.
        var rebuilt = qemuJson.StandardError.Contains("Rebuilding refcount structure", StringComparison.Ordinal);
        string[] ignore = rebuilt ? ["image-end-offset"] : [];
        CheckRunner.AssertSameJson(qemuJson, oursJson, ignore);

        var qemuHuman = CheckRunner.QemuImg(qemuHumanCopy, json: false, mode);
        var oursHuman = CheckRunner.Ours(oursHumanCopy, json: false, mode);
        // Every stderr line, in order, including those of QEMU's first (counting) comparison before the repairing one.
        CheckRunner.AssertSameHuman(qemuHuman, oursHuman, ignoreEndOffset: rebuilt);

        // What qemu-img check says about the two repaired images must agree too.
        var afterQemu = CheckRunner.QemuImg(qemuJsonCopy, json: true);
        var afterOurs = CheckRunner.QemuImg(oursJsonCopy, json: true);
        Assert.True(afterQemu.ExitCode == afterOurs.ExitCode, $"after the repairs\n{afterQemu}\n{afterOurs}");
        CheckRunner.AssertSameJson(afterQemu, afterOurs, ignore);
        if (rebuilt && oursJson.Json is { } ours && afterOurs.Json is { } after)
        {
            Assert.Equal(after.GetProperty("image-end-offset").GetInt64(), ours.GetProperty("image-end-offset").GetInt64());
            Assert.Contains($"Image end offset: {after.GetProperty("image-end-offset").GetInt64()}\n", oursHuman.StandardOutput);
        }

        if (oursJson.ExitCode == 0)
        {
            Assert.True(afterOurs.ExitCode == 0, $"qemu-img check after our repair\n{afterOurs}");
            Assert.False(new QcowBytes(oursJsonCopy).IsDirty, "the dirty bit must be cleared by a successful repair");
            Assert.False(new QcowBytes(oursJsonCopy).IsCorrupt, "the corrupt bit must be clear after a successful repair");
            verifyData(oursJsonCopy);
            verifyData(oursHumanCopy);
        }
    }
}

/// <summary>A difference the matrix found (now fixed), pinned down on the smallest image that shows it.</summary>
public sealed class RepairOutputTests
{
    /// <summary>
    /// QEMU's <c>qcow2_check_refcounts</c> with <c>-r</c> compares twice when the first comparison found something: first only
    /// counting (printing "Leaked cluster …" / "ERROR cluster …"), then repairing ("Repairing cluster …"). qemu-img therefore prints
    /// both lines; ours prints only the second (ImageCheck.Execute removes the first comparison's findings).
    /// </summary>
    [QemuFact]
    public void Repair_prints_both_comparison_passes_like_qemu_img()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        long cluster = 0;
        CheckScenarios.Edit(dir, CheckScenarios.Base(dir, image), image, q => q.SetRefcount(cluster = q.DataCluster(0), 2));
        var qemu = CheckRunner.QemuImg(CheckRunner.Copy(dir, image, "qemu.qcow2"), json: false, "leaks");
        var ours = CheckRunner.Ours(CheckRunner.Copy(dir, image, "ours.qcow2"), json: false, "leaks");
        Assert.Equal([$"Leaked cluster {cluster} refcount=2 reference=1", $"Repairing cluster {cluster} refcount=2 reference=1"], qemu.ProblemLines);
        CheckRunner.AssertSameHuman(qemu, ours);
    }
}
