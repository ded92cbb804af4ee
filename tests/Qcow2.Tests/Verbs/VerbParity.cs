using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Verbs;

/// <summary>Runs a verb through qemu-img and through our tool and asserts the same stdout, exit code and error message.</summary>
public static class VerbParity
{
    public static ToolResult AssertSameAsQemu(params string[] args)
    {
        var qemu = Qemu.Img(args);
        var ours = ToolRunner.Run(args);
        var what = $"qcow2 {string.Join(' ', args)}\nqemu-img said ({qemu.ExitCode}):\n{qemu.StandardOutput}{qemu.StandardError}\nwe said ({ours.ExitCode}):\n{ours.StandardOutput}{ours.StandardError}";
        Assert.True(qemu.StandardOutput == ours.StandardOutput, what);
        Assert.True(qemu.ExitCode == ours.ExitCode, what);
        Assert.True(Strip(qemu.StandardError, "qemu-img: ") == Strip(ours.StandardError, "qcow2: "), what);
        return ours;
    }

    private static string Strip(string text, string prefix) =>
        string.Join('\n', text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.StartsWith(prefix, StringComparison.Ordinal) ? line[prefix.Length..] : line));
}
