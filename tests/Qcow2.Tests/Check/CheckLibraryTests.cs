using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Check;

/// <summary>The structured <see cref="Qcow2CheckResult"/> of <see cref="Qcow2Image.Check"/>, beyond what the tool prints.</summary>
public sealed class CheckLibraryTests
{
    [QemuTheory]
    [InlineData(Qcow2CheckRepair.Leaks)]
    [InlineData(Qcow2CheckRepair.All)]
    public void Repair_on_a_read_only_image_throws_and_writes_nothing(Qcow2CheckRepair repair)
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        CheckScenarios.Edit(dir, CheckScenarios.Base(dir, image), image, q => q.AddLeakedCluster());
        var before = CheckRunner.Hash(image);

        using (var opened = Qcow2Image.Open(image, new Qcow2OpenOptions { ForCheck = true }))
        {
            Assert.Throws<InvalidOperationException>(() => opened.Check(new Qcow2CheckOptions { Repair = repair }));
            Assert.Equal(3, opened.Check().ExitCode()); // still usable for a plain check
        }
        using (var opened = Qcow2Image.Open(image))
            Assert.Throws<InvalidOperationException>(() => opened.Check(new Qcow2CheckOptions { Repair = repair }));
        Assert.Equal(before, CheckRunner.Hash(image));
    }

    [QemuFact]
    public void Clean_image_has_no_findings_and_qemu_img_statistics()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        CheckScenarios.Snapshot(dir, image);
        var qemu = CheckRunner.QemuImg(image, json: true).Json!.Value;

        using var opened = Qcow2Image.Open(image, new Qcow2OpenOptions { ForCheck = true });
        var result = opened.Check();
        Assert.Equal(0, result.ExitCode());
        Assert.Empty(result.Findings);
        Assert.Empty(result.RepairFindings);
        Assert.False(result.DoubleChecked);
        Assert.Null(result.FailureMessage);
        Assert.Equal(qemu.GetProperty("image-end-offset").GetInt64(), result.ImageEndOffset);
        Assert.Equal(qemu.GetProperty("total-clusters").GetInt64(), result.TotalClusters);
        Assert.Equal(qemu.GetProperty("allocated-clusters").GetInt64(), result.AllocatedClusters);
        Assert.Equal(qemu.TryGetProperty("fragmented-clusters", out var f) ? f.GetInt64() : 0, result.FragmentedClusters);
    }

    [QemuFact]
    public void Refcount_too_high_is_a_leak_plus_a_copied_flag_error_and_leak_repair_fixes_both()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        long cluster = 0;
        CheckScenarios.Edit(dir, CheckScenarios.Base(dir, image), image, q => q.SetRefcount(cluster = q.DataCluster(0), 2));

        using (var readOnly = Qcow2Image.Open(image, new Qcow2OpenOptions { ForCheck = true }))
        {
            var result = readOnly.Check();
            Assert.Equal((1L, 1L, 2), (result.Leaks, result.Corruptions, result.ExitCode()));
            Assert.Collection(result.Findings,
                leak =>
                {
                    Assert.Equal(Qcow2CheckFindingKind.Leak, leak.Kind);
                    Assert.Equal(cluster, leak.Cluster);
                    Assert.Equal(2UL, leak.OnDiskRefcount);
                    Assert.Equal(1UL, leak.ComputedRefcount);
                    Assert.False(leak.Repaired);
                    Assert.Equal($"Leaked cluster {cluster} refcount=2 reference=1", leak.Message);
                },
                copied => Assert.Equal(Qcow2CheckFindingKind.CopiedFlag, copied.Kind));
        }

        using (var writable = Qcow2Image.Open(image, new Qcow2OpenOptions { Writable = true, ForCheck = true }))
        {
            var result = writable.Check(new Qcow2CheckOptions { Repair = Qcow2CheckRepair.Leaks });
            Assert.True(result.DoubleChecked);
            Assert.Equal((1L, 0L), (result.LeaksFixed, result.CorruptionsFixed));
            Assert.Equal(0, result.ExitCode());
            Assert.Empty(result.Findings);
            Assert.Contains(result.RepairFindings, r => r.Kind == Qcow2CheckFindingKind.Leak && r.Cluster == cluster && r.Repaired);
        }
        Assert.Equal(1UL, new QcowBytes(image).Refcount(cluster));
        Assert.Equal(0, CheckRunner.QemuImg(image, json: true).ExitCode);
    }

    [QemuFact]
    public void Refcount_zero_needs_a_rebuild_which_only_repair_all_does()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        long cluster = 0;
        var verifyData = CheckScenarios.Edit(dir, CheckScenarios.Base(dir, image), image, q => q.SetRefcount(cluster = q.DataCluster(64 << 10), 0));

        using (var writable = Qcow2Image.Open(image, new Qcow2OpenOptions { Writable = true, ForCheck = true }))
        {
            var leaksOnly = writable.Check(new Qcow2CheckOptions { Repair = Qcow2CheckRepair.Leaks });
            Assert.NotNull(leaksOnly.FailureMessage);
            Assert.Equal(1, leaksOnly.ExitCode());
            Assert.Contains(leaksOnly.Findings, f => f.Kind == Qcow2CheckFindingKind.RefcountZero && f.Cluster == cluster && f.OnDiskRefcount == 0 && f.ComputedRefcount == 1);

            var all = writable.Check(new Qcow2CheckOptions { Repair = Qcow2CheckRepair.All });
            Assert.Equal(0, all.ExitCode());
            Assert.True(all.CorruptionsFixed >= 1);
            Assert.Contains(all.RepairFindings, f => f.Message == "Rebuilding refcount structure" && f.Kind == Qcow2CheckFindingKind.RefcountRebuild);
        }
        Assert.Equal(1UL, new QcowBytes(image).Refcount(cluster));
        Assert.Equal(0, CheckRunner.QemuImg(image, json: true).ExitCode);
        verifyData(image);
    }
}
