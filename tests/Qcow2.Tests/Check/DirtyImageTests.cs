using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Check;

/// <summary>
/// A lazy-refcount image whose writer crashed (qemu-io <c>abort</c>): dirty bit set, refcounts of the new clusters never written.
/// QEMU repairs it on a writable open and refuses nothing on a read-only one; <c>check -r leaks</c> cannot fix it.
/// </summary>
public sealed class DirtyImageTests
{
    [QemuFact]
    public void Writable_open_repairs_a_dirty_image_and_clears_the_dirty_bit()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        var verifyData = CheckScenarios.CrashedLazyRefcounts(image);
        Assert.Equal(2, CheckRunner.QemuImg(image, json: true).ExitCode);

        using (var opened = Qcow2Image.Open(image, new Qcow2OpenOptions { Writable = true }))
        {
            Assert.False(opened.IsDirty);
            Assert.Contains(opened.Warnings, w => w.Contains("dirty", StringComparison.OrdinalIgnoreCase) && w.Contains("repaired", StringComparison.OrdinalIgnoreCase));
            var recheck = opened.Check();
            Assert.Equal(0, recheck.ExitCode());
            Assert.Empty(recheck.Findings);
        }

        var bytes = new QcowBytes(image);
        Assert.False(bytes.IsDirty, "the dirty bit must be cleared on disk");
        Assert.False(bytes.IsCorrupt);
        var after = CheckRunner.QemuImg(image, json: true);
        Assert.True(after.ExitCode == 0, $"qemu-img check after the repair on open\n{after}");
        verifyData(image);
    }

    [QemuFact]
    public void Read_only_and_check_mode_opens_do_not_repair_a_dirty_image()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        CheckScenarios.CrashedLazyRefcounts(image);
        var before = CheckRunner.Hash(image);

        using (var readOnly = Qcow2Image.Open(image))
        {
            Assert.True(readOnly.IsDirty);
            var result = readOnly.Check();
            Assert.Equal(2, result.ExitCode());
            Assert.Contains(result.Findings, f => f.Kind == Qcow2CheckFindingKind.RefcountZero && f.OnDiskRefcount == 0 && f.ComputedRefcount == 1 && !f.Repaired);
            Assert.Contains(result.Findings, f => f.Kind == Qcow2CheckFindingKind.CopiedFlag);
        }
        Assert.Equal(before, CheckRunner.Hash(image));

        using (var forCheck = Qcow2Image.Open(image, new Qcow2OpenOptions { Writable = true, ForCheck = true }))
        {
            Assert.True(forCheck.IsDirty);
            Assert.DoesNotContain(forCheck.Warnings, w => w.Contains("repaired", StringComparison.OrdinalIgnoreCase));
        }
        Assert.Equal(before, CheckRunner.Hash(image));
    }

    /// <summary>
    /// <c>-r leaks</c> cannot rebuild refcounts: both fail with exit 1 and no summary. QEMU then clears the dirty bit anyway on
    /// close (spec §8.6), hiding the damage from later opens; ours keeps it, so the next writable open still repairs.
    /// </summary>
    [QemuFact]
    public void Failed_leak_repair_keeps_the_dirty_bit_unlike_qemu_img()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        CheckScenarios.CrashedLazyRefcounts(image);
        var qemuCopy = CheckRunner.Copy(dir, image, "qemu.qcow2");
        var oursCopy = CheckRunner.Copy(dir, image, "ours.qcow2");

        var qemu = CheckRunner.QemuImg(qemuCopy, json: false, "leaks");
        var ours = CheckRunner.Ours(oursCopy, json: false, "leaks");
        Assert.Equal(1, qemu.ExitCode);
        Assert.Equal(1, ours.ExitCode);
        Assert.Equal("", ours.StandardOutput);
        Assert.Contains("ERROR need to rebuild refcount structures", ours.ProblemLines);
        Assert.Equal("qcow2: Check failed: Input/output error", ours.ProblemLines[^1]);

        Assert.False(new QcowBytes(qemuCopy).IsDirty, "QEMU 7.2 clears the dirty bit here (spec §8.6)");
        Assert.True(new QcowBytes(oursCopy).IsDirty, "ours must keep the dirty bit while the refcounts are still wrong");
        Assert.Equal(2, CheckRunner.QemuImg(oursCopy, json: true).ExitCode);

        // The next writable open repairs what -r leaks could not.
        using (Qcow2Image.Open(oursCopy, new Qcow2OpenOptions { Writable = true }))
        {
        }
        Assert.Equal(0, CheckRunner.QemuImg(oursCopy, json: true).ExitCode);
    }
}
