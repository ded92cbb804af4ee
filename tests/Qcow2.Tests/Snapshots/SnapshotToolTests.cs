using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Snapshots;

/// <summary>`qcow2 snapshot` against `qemu-img snapshot`: output, messages and exit codes, each on its own copy of one image.</summary>
public sealed class SnapshotToolTests
{
    public static TheoryData<string[]> Commands => new()
    {
        new[] { "-l" },
        new[] { "-a", "nope" },
        new[] { "-d", "nope" },
        new[] { "-a", "1" },
        new[] { "-a", "s2" },
        new[] { "-d", "1" },
        new[] { "-d", "s1" },
        new[] { "-c", "s1" },
        new[] { "-c", "" },
        new[] { "-c", new string('n', 300) },
        new[] { "-l", "-c", "x" },
        new[] { "-a", "s1", "-d", "s1" },
        new[] { "-q", "-l" },
        new string[0],
    };

    [QemuTheory]
    [MemberData(nameof(Commands))]
    public void Snapshot_command_matches_qemu_img(string[] arguments)
    {
        using var dir = new TempDir();
        var ours = dir.File("ours.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", ours, "1M").EnsureSuccess("create");
        Qemu.Img("snapshot", "-c", "s1", ours).EnsureSuccess("snapshot");
        // A snapshot named like another one's id: -a looks for ids first, -d for names first.
        Qemu.Img("snapshot", "-c", "1", ours).EnsureSuccess("snapshot");
        Qemu.Img("snapshot", "-c", "s2", ours).EnsureSuccess("snapshot");
        var theirs = dir.File("theirs.qcow2");
        File.Copy(ours, theirs);

        var ourResult = ToolRunner.Run(["snapshot", .. arguments, ours]);
        var qemuResult = Qemu.Img(["snapshot", .. arguments, theirs]);
        Assert.Equal(qemuResult.ExitCode, ourResult.ExitCode);
        Assert.Equal(qemuResult.StandardOutput, ourResult.StandardOutput);
        // qemu-img adds a "Try 'qemu-img --help'" line to usage errors; ours is always one line.
        var qemuFirstLine = qemuResult.StandardError.Split('\n')[0];
        var ourLine = ourResult.StandardError.TrimEnd('\n');
        Assert.Equal(qemuFirstLine.Replace("qemu-img: ", "qcow2: ", StringComparison.Ordinal), ourLine);
        Assert.Equal(SnapshotAssert.QemuListWithoutDates(theirs), SnapshotAssert.QemuListWithoutDates(ours));
        if (ourResult.ExitCode == 0)
            SnapshotAssert.Clean(ours, string.Join(' ', arguments));
    }
}
