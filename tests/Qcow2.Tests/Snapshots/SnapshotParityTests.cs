using System.Globalization;
using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Snapshots;

/// <summary>
/// The same snapshot sequence run by our tool on one copy and by qemu-img on another, with guest writes by qemu-io on both.
/// After every step: the snapshot lists match (dates aside), both images check clean, both disks are identical and read as
/// the model says. At the end every snapshot, applied by our tool and by qemu-img, on either tool's image, reads as taken.
/// </summary>
public sealed class SnapshotParityTests
{
    public static TheoryData<string, string> Sequences => new()
    {
        // Create, write, create, apply an older one, write over it, delete the middle one, apply, delete the applied one.
        { "cluster_size=4096", "w 11 0 256k; c s1; w 22 128k 256k; c s2; a s1; w 33 4M 64k; c s3; d s2; a s3; d s1; w 44 0 4k; c s4; a s3; d s3" },
        // Apply right after create, delete the snapshot the disk came from, snapshots of an untouched disk, delete in order.
        { "cluster_size=4096", "c empty; w 55 1M 1M; c a; a a; d a; w 66 0 64k; c b; c b2; d b; w 77 2M 8k; a b2; a empty; d empty; d b2" },
        // Extended L2 entries and compressed clusters, 64 KiB clusters spread over two L2 tables' worth of disk.
        { "cluster_size=65536,extended_l2=on", "wc 12 0 128k; w 34 64k 4k; c x; w 56 0 128k; c y; a x; wc 78 5M 64k; d x; c z; a y; d y; d z" },
        // A v2 image and 16-bit refcounts spread over two refcount blocks (512-byte clusters).
        { "compat=0.10,cluster_size=512", "w 21 0 300k; c one; w 43 100k 8k; c two; a one; d two; w 65 1M 4k; c three; a three; d one" },
    };

    [QemuTheory]
    [MemberData(nameof(Sequences))]
    public void Our_snapshots_match_qemu_img_step_by_step(string options, string sequence)
    {
        using var dir = new TempDir();
        const long size = 6L << 20;
        var ours = dir.File("ours.qcow2");
        var theirs = dir.File("theirs.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", options, ours, size.ToString(CultureInfo.InvariantCulture)).EnsureSuccess("create");
        File.Copy(ours, theirs);
        var model = new DiskModel(size);

        foreach (var step in sequence.Split(';', StringSplitOptions.TrimEntries))
        {
            var parts = step.Split(' ');
            switch (parts[0])
            {
                case "w" or "wc":
                    var pattern = int.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    var offset = Size(parts[2]);
                    var length = Size(parts[3]);
                    var command = $"write {(parts[0] == "wc" ? "-c " : "")}-P 0x{parts[1]} {offset} {length}";
                    Qemu.Io("-f", "qcow2", "-c", command, ours).EnsureSuccess(command);
                    Qemu.Io("-f", "qcow2", "-c", command, theirs).EnsureSuccess(command);
                    model.Write(pattern, offset, length);
                    break;
                case "c":
                    ToolRunner.Run("snapshot", "-c", parts[1], ours).EnsureSuccess();
                    Qemu.Img("snapshot", "-c", parts[1], theirs).EnsureSuccess(step);
                    model.Create(parts[1]);
                    break;
                case "a":
                    ToolRunner.Run("snapshot", "-a", parts[1], ours).EnsureSuccess();
                    Qemu.Img("snapshot", "-a", parts[1], theirs).EnsureSuccess(step);
                    model.Apply(parts[1]);
                    break;
                case "d":
                    ToolRunner.Run("snapshot", "-d", parts[1], ours).EnsureSuccess();
                    Qemu.Img("snapshot", "-d", parts[1], theirs).EnsureSuccess(step);
                    model.Delete(parts[1]);
                    break;
                default:
                    throw new InvalidOperationException(step);
            }

            Assert.Equal(SnapshotAssert.QemuListWithoutDates(theirs), SnapshotAssert.QemuListWithoutDates(ours));
            Assert.Equal(Qemu.Img("snapshot", "-l", ours).StandardOutput, ToolRunner.Run("snapshot", "-l", ours).EnsureSuccess().StandardOutput);
            SnapshotAssert.Clean(ours, $"ours after '{step}'");
            SnapshotAssert.Clean(theirs, $"qemu-img's after '{step}'");
            var compare = Qemu.Img("compare", "-f", "qcow2", "-F", "qcow2", ours, theirs);
            Assert.True(compare.ExitCode == 0, $"after '{step}': {compare.StandardOutput}{compare.StandardError}");
            DiskModel.AssertReads(ours, model.Active, $"after '{step}'");
        }

        var scratch = dir.File("scratch.qcow2");
        model.AssertSnapshotsRead(ours, scratch, SnapshotAssert.OurApply, "ours, applied by us");
        model.AssertSnapshotsRead(ours, scratch, SnapshotAssert.QemuApply, "ours, applied by qemu-img");
        model.AssertSnapshotsRead(theirs, scratch, SnapshotAssert.OurApply, "qemu-img's, applied by us");
    }

    private static long Size(string text) => CultureInfo.InvariantCulture.TextInfo.ToLower(text) switch
    {
        var t when t.EndsWith('k') => long.Parse(t[..^1], CultureInfo.InvariantCulture) << 10,
        var t when t.EndsWith('m') => long.Parse(t[..^1], CultureInfo.InvariantCulture) << 20,
        var t => long.Parse(t, CultureInfo.InvariantCulture),
    };
}
