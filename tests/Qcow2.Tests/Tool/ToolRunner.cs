using System.Text.Json;
using Qcow2.Tool;

namespace Qcow2.Tests.Tool;

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

/// <summary>Structural JSON comparison: every key qemu-img prints must be present with an equal value.</summary>
public static class JsonCompare
{
    /// <summary>
    /// Returns the differences between <paramref name="expected"/> (qemu-img) and <paramref name="actual"/> (ours):
    /// missing keys, unequal values, array length/element differences, and extra keys in <paramref name="actual"/> that
    /// are not allowed by <paramref name="extraKeyAllowed"/>. Keys in <paramref name="ignore"/> (top-level) are skipped.
    /// </summary>
    public static List<string> Differences(JsonElement expected, JsonElement actual, Func<string, bool> extraKeyAllowed, params string[] ignore)
    {
        var differences = new List<string>();
        Compare(expected, actual, "$", differences, extraKeyAllowed, ignore);
        return differences;
    }

    private static void Compare(JsonElement expected, JsonElement actual, string path, List<string> differences, Func<string, bool> extraKeyAllowed, string[] ignore)
    {
        if (expected.ValueKind != actual.ValueKind)
        {
            differences.Add($"{path}: expected {expected.ValueKind} {expected.GetRawText()}, got {actual.ValueKind} {actual.GetRawText()}");
            return;
        }
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in expected.EnumerateObject())
                {
                    if (path == "$" && ignore.Contains(property.Name))
                        continue;
                    if (!actual.TryGetProperty(property.Name, out var value))
                        differences.Add($"{path}.{property.Name}: missing (qemu-img has {property.Value.GetRawText()})");
                    else
                        Compare(property.Value, value, $"{path}.{property.Name}", differences, extraKeyAllowed, ignore);
                }
                foreach (var property in actual.EnumerateObject())
                {
                    if (!expected.TryGetProperty(property.Name, out _) && !(path == "$" && ignore.Contains(property.Name)) && !extraKeyAllowed(property.Name))
                        differences.Add($"{path}.{property.Name}: not printed by qemu-img ({property.Value.GetRawText()})");
                }
                break;
            case JsonValueKind.Array:
                var e = expected.EnumerateArray().ToList();
                var a = actual.EnumerateArray().ToList();
                if (e.Count != a.Count)
                {
                    differences.Add($"{path}: expected {e.Count} elements {expected.GetRawText()}, got {a.Count} {actual.GetRawText()}");
                    return;
                }
                for (var i = 0; i < e.Count; i++)
                    Compare(e[i], a[i], $"{path}[{i}]", differences, extraKeyAllowed, ignore);
                break;
            default:
                if (expected.GetRawText() != actual.GetRawText())
                    differences.Add($"{path}: expected {expected.GetRawText()}, got {actual.GetRawText()}");
                break;
        }
    }
}
