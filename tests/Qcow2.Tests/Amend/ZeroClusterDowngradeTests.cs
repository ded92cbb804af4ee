using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Snapshots;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Amend;

/// <summary>
/// <c>amend -o compat=0.10</c> on images with zero clusters: they are expanded, as qemu-img does, and every snapshot still reads
/// as before. Compared with qemu-img amend on a copy; where QEMU 7.2 zero-fills a cluster a snapshot still reads as data, ours
/// must keep the snapshot's data.
/// </summary>
public sealed class ZeroClusterDowngradeTests
{
    /// <summary>qemu-io commands and snapshots, in order (a word starting with "snap:" takes a snapshot).</summary>
    public static TheoryData<string, string[]> Scenarios => new()
    {
        // Plain zero clusters over unallocated space and unmapped data, preallocated ones over data, in two L2 tables.
        { "plain", ["write -P 0x11 0 256k", "write -z -u 64k 64k", "write -z 128k 64k", "write -z 3M 64k"] },
        // Zero clusters in L2 tables the snapshot shares.
        { "shared-table", ["write -P 0x11 0 256k", "write -z 64k 64k", "write -z -u 128k 16k", "snap:s1", "write -P 0x22 3M 64k"] },
        // A preallocated zero cluster whose data a snapshot still reads (QEMU 7.2 zero-fills it in place).
        { "shared-cluster", ["write -P 0x11 0 256k", "snap:s1", "write -z 0 64k", "write -z -u 128k 64k", "snap:s2", "write -P 0x33 192k 4k"] },
        // Plain zero clusters over a backing file become zero-filled clusters, with the refcount of the L2 table s1 shares.
        { "backing", ["write -z -u 0 64k", "write -P 0x44 64k 64k", "write -z 64k 4k", "snap:s1", "write -z -u 1M 8k"] },
    };

    private static void Build(TempDir dir, string name, string[] steps)
    {
        var path = dir.File(name);
        var args = new List<string> { "create", "-q", "-f", "qcow2", "-o", "cluster_size=4096,compat=1.1" };
        if (steps.Any(s => s.Contains("backing", StringComparison.Ordinal)) || name == "backing.qcow2")
        {
            Qemu.Img("create", "-q", "-f", "qcow2", dir.File("base.qcow2"), "4M").EnsureSuccess("base");
            Qemu.Io("-f", "qcow2", "-c", "write -P 0x55 0 4M", dir.File("base.qcow2")).EnsureSuccess("base data");
            args.AddRange(["-b", "base.qcow2", "-F", "qcow2"]);
        }
        args.AddRange([path, "4M"]);
        Qemu.Img([.. args]).EnsureSuccess("create");
        foreach (var step in steps)
        {
            if (step.StartsWith("snap:", StringComparison.Ordinal))
                Qemu.Img("snapshot", "-c", step[5..], path).EnsureSuccess("snapshot");
            else
                Qemu.Io("-f", "qcow2", "-c", step, path).EnsureSuccess(step);
        }
    }

    [QemuTheory]
    [MemberData(nameof(Scenarios))]
    public void Downgrade_expands_zero_clusters_like_qemu_img(string scenario, string[] steps)
    {
        using var dir = new TempDir();
        Build(dir, scenario + ".qcow2", steps);
        var original = dir.File(scenario + ".qcow2");
        var ours = dir.File("ours.qcow2");
        var theirs = dir.File("theirs.qcow2");
        File.Copy(original, ours);
        File.Copy(original, theirs);

        ToolRunner.Run("amend", "-o", "compat=0.10", ours).EnsureSuccess();
        Qemu.Img("amend", "-o", "compat=0.10", theirs).EnsureSuccess("qemu-img amend");
        SnapshotAssert.Clean(ours, "ours");
        Assert.Equal("0.10", Qemu.InfoJson(ours).GetProperty("format-specific").GetProperty("data").GetProperty("compat").GetString());
        Assert.Equal(Qemu.InfoJson(theirs).GetProperty("format-specific").ToString(), Qemu.InfoJson(ours).GetProperty("format-specific").ToString());
        AssertSame(ours, theirs, "active disk");
        AssertSnapshotsReadAsIn(original, ours, dir);
        // QEMU 7.2 zero-fills a preallocated zero cluster in place even when another L2 table shares it, and sets COPIED there
        // though its refcount is 2: qemu-img check finds a corruption in its result, never in ours.
        var qemuFaults = scenario is "shared-cluster" or "backing";
        Assert.Equal(qemuFaults, Qemu.Img("check", "-f", "qcow2", theirs).ExitCode != 0);
        if (scenario == "shared-cluster")
        {
            // There the shared cluster is one s1 still reads as 0x11: QEMU's s1 reads zeros, ours keeps its data.
            Assert.True(ReadsPattern(ours, "s1", "read -P 0x11 0 256k", dir), "ours lost s1's data");
            Assert.False(ReadsPattern(theirs, "s1", "read -P 0x11 0 256k", dir), "QEMU 7.2 kept s1's data: its fault is fixed");
        }
        else
        {
            AssertSnapshotsReadAsIn(theirs, ours, dir);
        }
    }

    private static bool ReadsPattern(string path, string snapshot, string read, TempDir dir)
    {
        var applied = dir.File("applied.qcow2");
        File.Copy(path, applied, overwrite: true);
        SnapshotAssert.QemuApply(applied, snapshot);
        var result = Qemu.Io("-f", "qcow2", "-c", read, applied);
        var failed = (result.StandardOutput + result.StandardError).Contains("verification failed", StringComparison.Ordinal);
        Assert.True(failed || result.ExitCode == 0, $"{read}: {result.StandardError}");
        return !failed;
    }

    /// <summary>A crash after every write of a downgrade with zero clusters: version 2 or 3, at worst leaks, the same data.</summary>
    [QemuTheory]
    [InlineData("shared-cluster")]
    [InlineData("backing")]
    public void Every_crash_point_of_a_downgrade_with_zero_clusters_is_safe(string scenario)
    {
        using var dir = new TempDir();
        var steps = (string[])Scenarios.Single(row => (string)row[0] == scenario)[1];
        Build(dir, scenario + ".qcow2", steps);
        var original = dir.File(scenario + ".qcow2");
        var versions = new HashSet<int>();
        var writes = CrashPoints.Run(dir.File("crashed.qcow2"), File.ReadAllBytes(original), image =>
        {
            image.SetVersion(2);
            return image.Version == 2;
        }, (crashed, n) =>
        {
            var what = $"crash after write {n}";
            var check = Qemu.Img("check", "-f", "qcow2", crashed);
            Assert.True(check.ExitCode is 0 or 3, $"{what}: qemu-img check exited {check.ExitCode}: {check.StandardError}{check.StandardOutput}");
            using (var image = Qcow2Image.Open(crashed))
                versions.Add(image.Version);
            AssertSame(original, crashed, what);
            AssertSnapshotsReadAsIn(original, crashed, dir);
        });
        Assert.True(writes >= 4, $"only {writes} writes");
        Assert.Equal(2, versions.Count);
    }

    private static void AssertSame(string expected, string actual, string what)
    {
        var compare = Qemu.Img("compare", "-f", "qcow2", "-F", "qcow2", expected, actual);
        Assert.True(compare.ExitCode == 0, $"{what}: {compare.StandardOutput}{compare.StandardError}");
    }

    /// <summary>Every snapshot of <paramref name="expected"/>, applied by qemu-img on a copy, reads as in <paramref name="actual"/>.</summary>
    private static void AssertSnapshotsReadAsIn(string expected, string actual, TempDir dir)
    {
        using var image = Qcow2Image.Open(expected);
        foreach (var name in image.Snapshots.Select(s => s.Name))
        {
            var left = dir.File("left.qcow2");
            var right = dir.File("right.qcow2");
            File.Copy(expected, left, overwrite: true);
            File.Copy(actual, right, overwrite: true);
            SnapshotAssert.QemuApply(left, name);
            SnapshotAssert.QemuApply(right, name);
            AssertSame(left, right, $"snapshot {name}");
        }
    }
}
