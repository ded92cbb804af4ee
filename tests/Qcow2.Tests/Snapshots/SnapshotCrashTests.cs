using System.Text.RegularExpressions;
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Snapshots;

/// <summary>
/// A crash after every single write of snapshot create, apply and delete (<see cref="CrashPoints"/>). Each persisted image
/// must open in both tools, list the old or the new set of snapshots, read as the old or the new disk, have every listed
/// snapshot read as taken (applied by qemu-img), and show qemu-img check at worst leaks. Refcounts and COPIED flags sit in
/// different clusters, so between their writes a COPIED flag may be set on a cluster whose refcount is one too high (a
/// leak): qemu-img check counts that as a corruption too, so every ERROR line must be exactly that (COPIED set), and
/// `qemu-img check -r leaks` alone must leave every crashed image clean.
/// </summary>
public sealed partial class SnapshotCrashTests
{
    private const long Size = 2L << 20;

    [QemuFact]
    public void Every_crash_point_of_create_is_safe() =>
        Run(image => image.CreateSnapshot("new") is not null, model => model.Create("new"));

    [QemuFact]
    public void Every_crash_point_of_apply_is_safe() =>
        Run(image =>
        {
            image.ApplySnapshot(image.FindSnapshotByIdOrName("s1")!);
            return true;
        }, model => model.Apply("s1"));

    [QemuFact]
    public void Every_crash_point_of_delete_is_safe() =>
        Run(image =>
        {
            image.DeleteSnapshot(image.FindSnapshotByNameOrId("s1")!);
            return true;
        }, model => model.Delete("s1"));

    private static void Run(Func<Qcow2Image, bool> operation, Action<DiskModel> change)
    {
        using var dir = new TempDir();
        var (template, before) = Template(dir);
        var after = before.Clone();
        change(after);
        var scratch = dir.File("scratch.qcow2");
        int sawOld = 0, sawNew = 0;

        var writes = CrashPoints.Run(dir.File("crashed.qcow2"), template, operation, (path, n) =>
        {
            var what = $"crash after write {n}";
            string[] names;
            using (var ours = Qcow2Image.Open(path))
            {
                names = ours.Snapshots.Select(s => s.Name).ToArray();
                var result = ours.Check();
                Assert.True(result.FailureMessage is null && result.CheckErrors == 0, $"{what}: our check: {result.FailureMessage}");
            }
            var model = names.SequenceEqual(after.Snapshots.Keys) ? after : before;
            Assert.True(names.SequenceEqual(model.Snapshots.Keys), $"{what}: snapshots {string.Join(",", names)} are neither the old nor the new set");
            var active = ActiveMatches(path, before, after);
            if (ReferenceEquals(active, after.Active) && !ReferenceEquals(active, before.Active) || !before.Snapshots.Keys.SequenceEqual(names))
                sawNew++;
            else
                sawOld++;

            AssertAtWorstLeaks(path, what);
            DiskModel.AssertReads(path, active, what);
            model.AssertSnapshotsRead(path, scratch, SnapshotAssert.QemuApply, what);

            Qemu.Img("check", "-q", "-r", "leaks", "-f", "qcow2", path);
            SnapshotAssert.Clean(path, $"{what}, after qemu-img check -r leaks");
        });
        Assert.True(writes >= 4, $"only {writes} writes");
        Assert.True(sawOld > 0 && sawNew > 0, $"{sawOld} crash points kept the old state, {sawNew} had the new one: both must occur");
    }

    /// <summary>The active disk of a crashed apply is the old one or the snapshot's; for create and delete it does not change.</summary>
    private static byte[] ActiveMatches(string path, DiskModel before, DiskModel after)
    {
        if (before.Active.AsSpan().SequenceEqual(after.Active))
            return before.Active;
        var probe = Qemu.Io("-r", "-f", "qcow2", "-c", "read -q -P 0x33 0 4k", path);
        return probe.StandardOutput.Contains("verification failed", StringComparison.Ordinal) ? after.Active : before.Active;
    }

    private static void AssertAtWorstLeaks(string path, string what)
    {
        var result = Qemu.Img("check", "-f", "qcow2", path);
        if (result.ExitCode is 0 or 3)
            return;
        Assert.True(result.ExitCode == 2, $"{what}: qemu-img check exited {result.ExitCode}: {result.StandardError}{result.StandardOutput}");
        foreach (var line in result.StandardError.Split('\n').Where(l => l.StartsWith("ERROR", StringComparison.Ordinal)))
        {
            var match = CopiedAheadOfRefcount().Match(line);
            Assert.True(match.Success && (Convert.ToUInt64(match.Groups[1].Value, 16) & (1UL << 63)) != 0,
                $"{what}: qemu-img check reports more than a COPIED flag ahead of a leaked refcount: {line}");
        }
    }

    /// <summary>
    /// 4 KiB clusters, 2 MiB: s1 holds 0x11 in [0, 256k); then 0x22 over [128k, 384k) and s2; then 0x33 over [0, 64k) and
    /// 0x44 at 1M, unshared.
    /// </summary>
    private static (byte[] Template, DiskModel Model) Template(TempDir dir)
    {
        var path = dir.File("template.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", path, "2M").EnsureSuccess("create");
        var model = new DiskModel(Size);
        void Write(int pattern, long offset, long length)
        {
            Qemu.Io("-f", "qcow2", "-c", $"write -P 0x{pattern:x2} {offset} {length}", path).EnsureSuccess("write");
            model.Write(pattern, offset, length);
        }
        void Snapshot(string name)
        {
            Qemu.Img("snapshot", "-c", name, path).EnsureSuccess("snapshot");
            model.Create(name);
        }
        Write(0x11, 0, 256 << 10);
        Snapshot("s1");
        Write(0x22, 128 << 10, 256 << 10);
        Snapshot("s2");
        Write(0x33, 0, 64 << 10);
        Write(0x44, 1 << 20, 64 << 10);
        return (File.ReadAllBytes(path), model);
    }

    [GeneratedRegex(@"^ERROR OFLAG_COPIED (?:data|L2) cluster: (?:l2_entry|l1_index=\d+ l1_entry)=([0-9a-f]+) refcount=\d+$")]
    private static partial Regex CopiedAheadOfRefcount();
}
