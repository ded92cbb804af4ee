using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Resize;

/// <summary>What every resized image must satisfy, judged by the real qemu-img and qemu-io.</summary>
internal static class ResizeAssert
{
    /// <summary>qemu-img check exits 0 (no leaks, no corruptions) and qemu-img info reports <paramref name="size"/>.</summary>
    public static void CleanWithSize(string path, long size)
    {
        var (exitCode, json, stderr) = Qemu.CheckJson(path);
        Assert.True(exitCode == 0, $"qemu-img check exited {exitCode}: {stderr} {json}");
        Assert.Equal(size, Qemu.InfoJson(path).GetProperty("virtual-size").GetInt64());
    }

    /// <summary>qemu-io reads [offset, offset + length) back with byte <paramref name="pattern"/> (0 for zeros).</summary>
    public static void Reads(string path, int pattern, long offset, long length, bool readOnly = true)
    {
        var args = new List<string>();
        if (readOnly)
            args.Add("-r");
        args.AddRange(["-f", "qcow2", "-c", $"read -P 0x{pattern:x2} {offset} {length}", path]);
        var result = Qemu.Io([.. args]);
        Assert.True(result.ExitCode == 0, $"qemu-io exited {result.ExitCode}: {result.StandardError}{result.StandardOutput}");
        Assert.DoesNotContain("Pattern verification failed", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
        Assert.Contains($"read {length}/{length} bytes", result.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>qemu-io writes [offset, offset + length) with byte <paramref name="pattern"/>.</summary>
    public static void Write(string path, int pattern, long offset, long length) =>
        Qemu.Io("-f", "qcow2", "-c", $"write -P 0x{pattern:x2} {offset} {length}", path).EnsureSuccess("qemu-io write");

    public static void Create(string path, string size, string options = "cluster_size=65536") =>
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", options, path, size).EnsureSuccess("qemu-img create");
}
