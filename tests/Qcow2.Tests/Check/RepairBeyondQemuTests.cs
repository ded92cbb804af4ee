using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Check;

/// <summary>
/// Damage that QEMU 7.2's <c>check -r all</c> cannot repair (spec §8.2): its refcount rebuild overlaps the old refcount block,
/// overlap protection marks the image corrupt and the check fails. Ours must do better: after our <c>-r all</c>,
/// <c>qemu-img check</c> finds a clean image with the same guest data, and neither the corrupt nor the dirty bit is set.
/// </summary>
public sealed class RepairBeyondQemuTests
{
    [QemuFact]
    public void Reftable_entry_with_reserved_bits_is_repaired_where_qemu_img_fails()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        var verifyData = CheckScenarios.Edit(dir, CheckScenarios.Base(dir, image), image,
            q => q.SetRefcountTableEntry(0, q.RefcountTableEntry(0) | 0x1));
        AssertRepairedWhereQemuFails(dir, image, verifyData, "ERROR refcount table entry 0 has reserved bits set");
    }

    [QemuFact]
    public void Unaligned_reftable_entry_is_reported_like_qemu_img_and_repaired_where_qemu_img_fails()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        var verifyData = CheckScenarios.Edit(dir, CheckScenarios.Base(dir, image), image,
            q => q.SetRefcountTableEntry(0, q.RefcountTableEntry(0) + 512));

        // Plain check: QEMU counts one corruption, then cannot read any refcount (8 check errors) → exit 1.
        var qemu = CheckRunner.QemuImg(image, json: true);
        var ours = CheckRunner.Ours(image, json: true);
        Assert.Equal(1, qemu.ExitCode);
        Assert.Equal(qemu.ExitCode, ours.ExitCode);
        CheckRunner.AssertSameJson(qemu, ours);
        CheckRunner.AssertSameHuman(CheckRunner.QemuImg(image, json: false), CheckRunner.Ours(image, json: false));

        AssertRepairedWhereQemuFails(dir, image, verifyData, "ERROR refcount block 0 is not cluster aligned; refcount table entry corrupted");
    }

    private static void AssertRepairedWhereQemuFails(TempDir dir, string image, Action<string> verifyData, string firstLine)
    {
        var qemuCopy = CheckRunner.Copy(dir, image, "qemu.qcow2");
        var qemu = CheckRunner.QemuImg(qemuCopy, json: false, "all");
        Assert.True(qemu.ExitCode == 1, $"QEMU 7.2 is expected to fail here (spec §8.2)\n{qemu}");
        Assert.True(new QcowBytes(qemuCopy).IsCorrupt, "QEMU 7.2 is expected to leave the corrupt bit set");

        var oursCopy = CheckRunner.Copy(dir, image, "ours.qcow2");
        var ours = CheckRunner.Ours(oursCopy, json: false, "all");
        Assert.True(ours.ExitCode == 0, $"our -r all should repair it\n{ours}");
        Assert.Equal(firstLine, ours.ProblemLines[0]);
        Assert.Contains("Rebuilding refcount structure", ours.ProblemLines);
        Assert.StartsWith("The following inconsistencies were found and repaired:\n", ours.StandardOutput);
        Assert.Contains("No errors were found on the image.\n", ours.StandardOutput);

        var after = CheckRunner.QemuImg(oursCopy, json: true);
        Assert.True(after.ExitCode == 0, $"qemu-img check after our repair\n{after}");
        var bytes = new QcowBytes(oursCopy);
        Assert.False(bytes.IsCorrupt);
        Assert.False(bytes.IsDirty);
        Assert.Equal(0UL, bytes.RefcountTableEntry(0) & 0x1FF);
        Assert.Equal(0, (long)bytes.RefcountTableEntry(0) % bytes.ClusterSize);
        verifyData(oursCopy);

        // The repaired image is usable by QEMU: a write and a read back succeed, and it stays clean.
        CheckScenarios.QemuIo(oursCopy, "write -P 0x44 4M 64k", "read -P 0x44 4M 64k");
        Assert.Equal(0, CheckRunner.QemuImg(oursCopy, json: true).ExitCode);
    }
}
