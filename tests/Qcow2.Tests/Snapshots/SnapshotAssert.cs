using System.Text.RegularExpressions;
using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Snapshots;

/// <summary>Snapshot helpers judged by the real qemu-img.</summary>
internal static partial class SnapshotAssert
{
    /// <summary>`qemu-img snapshot -l` with the date column (which differs between two runs) replaced by "DATE".</summary>
    public static string QemuListWithoutDates(string path) =>
        DateColumn().Replace(Qemu.Img("snapshot", "-l", path).EnsureSuccess("qemu-img snapshot -l").StandardOutput, "DATE");

    /// <summary>qemu-img check finds nothing at all: no leaks, no corruptions.</summary>
    public static void Clean(string path, string what)
    {
        var (exit, json, stderr) = Qemu.CheckJson(path);
        Assert.True(exit == 0, $"{what}: qemu-img check exited {exit}: {stderr} {json}");
    }

    public static void QemuApply(string path, string name) => Qemu.Img("snapshot", "-a", name, path).EnsureSuccess($"qemu-img snapshot -a {name}");

    public static void OurApply(string path, string name) => ToolRunner.Run("snapshot", "-a", name, path).EnsureSuccess();

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")]
    private static partial Regex DateColumn();
}
