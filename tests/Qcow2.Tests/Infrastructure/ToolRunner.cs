using System.Text.Json;
using Qcow2.Tool;

namespace Qcow2.Tests.Infrastructure;

/// <summary>The result of running the qcow2 tool in-process.</summary>
public sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError)
{
    public ToolResult EnsureSuccess()
    {
        Assert.True(ExitCode == 0, $"qcow2 exited {ExitCode}: {StandardError}{StandardOutput}");
        return this;
    }

    public JsonElement Json() => JsonDocument.Parse(StandardOutput).RootElement.Clone();
}

/// <summary>Runs <c>qcow2 …</c> through <see cref="Cli.Run"/> and captures its output.</summary>
public static class ToolRunner
{
    public static ToolResult Run(params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        var exit = Cli.Run(args, stdout, stderr);
        return new ToolResult(exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Asserts the tool failed the way every failure must look: exit 1, nothing on stdout, exactly one "qcow2: " line on stderr.</summary>
    public static string AssertSingleLineError(ToolResult result, bool allowStdout = false)
    {
        Assert.Equal(1, result.ExitCode);
        if (!allowStdout)
            Assert.Equal("", result.StandardOutput);
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one stderr line, got {lines.Length}: {result.StandardError}");
        Assert.StartsWith("qcow2: ", lines[0]);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal); // no stack trace
        Assert.DoesNotContain("Exception", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", lines[0], StringComparison.Ordinal);
        return lines[0];
    }
}
