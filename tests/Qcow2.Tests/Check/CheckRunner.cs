using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Check;

/// <summary>What one <c>check</c> run printed, from either program.</summary>
public sealed record CheckRun(string Program, string File, int ExitCode, string StandardOutput, string StandardError)
{
    public JsonElement? Json => string.IsNullOrWhiteSpace(StandardOutput) ? null : JsonDocument.Parse(StandardOutput).RootElement.Clone();

    /// <summary>The stderr lines that report problems and repairs, in order: warnings dropped, "qemu-img: " spelled "qcow2: ".</summary>
    public string[] ProblemLines => CheckRunner.ProblemLines(StandardError);

    public bool Warned => StandardError.Contains(": warning: ", StringComparison.Ordinal);

    public override string ToString() => $"{Program} exit {ExitCode}\n--- stdout\n{StandardOutput}--- stderr\n{StandardError}";
}

/// <summary>Runs <c>qemu-img check</c> and our <c>qcow2 check</c> the same way, and compares what they print.</summary>
public static partial class CheckRunner
{
    public static CheckRun QemuImg(string file, bool json, string? repair = null)
    {
        var result = Qemu.Img([.. Arguments(json, repair), "-f", "qcow2", file]);
        return new CheckRun("qemu-img", file, result.ExitCode, result.StandardOutput, result.StandardError);
    }

    public static CheckRun Ours(string file, bool json, string? repair = null)
    {
        var result = ToolRunner.Run([.. Arguments(json, repair), file]);
        return new CheckRun("qcow2", file, result.ExitCode, result.StandardOutput, result.StandardError);
    }

    private static string[] Arguments(bool json, string? repair) =>
        ["check", .. json ? new[] { "--output=json" } : [], .. repair is null ? [] : new[] { "-r", repair }];

    /// <summary>
    /// Asserts both JSON outputs carry the same keys with the same values (both, or neither, printed JSON), and that
    /// <c>filename</c> is, in each, the path that program was given. <paramref name="ignore"/> names keys allowed to differ.
    /// </summary>
    public static void AssertSameJson(CheckRun qemu, CheckRun ours, params string[] ignore)
    {
        Assert.True(qemu.Json.HasValue == ours.Json.HasValue, $"JSON printed by only one of them:\n{qemu}\n{ours}");
        if (qemu.Json is not { } expected || ours.Json is not { } actual)
            return;
        Assert.Equal(qemu.File, expected.GetProperty("filename").GetString());
        Assert.Equal(ours.File, actual.GetProperty("filename").GetString());
        var differences = JsonCompare.Differences(expected, actual, _ => false, ["filename", .. ignore]);
        Assert.True(differences.Count == 0, string.Join("\n", differences) + $"\n{qemu}\n{ours}");
    }

    /// <summary>
    /// Asserts equal exit codes, byte-identical stdout (optionally without the "Image end offset" line, which a refcount
    /// rebuild legitimately changes), the same problem lines in the same order, and a warning from both or neither.
    /// </summary>
    public static void AssertSameHuman(CheckRun qemu, CheckRun ours, bool ignoreEndOffset = false)
    {
        Assert.True(qemu.ExitCode == ours.ExitCode, $"exit codes differ\n{qemu}\n{ours}");
        Assert.True(Summary(qemu, ignoreEndOffset) == Summary(ours, ignoreEndOffset), $"stdout differs\n{qemu}\n{ours}");
        AssertSameLines(qemu.ProblemLines, ours.ProblemLines);
        Assert.True(qemu.Warned == ours.Warned, $"only one of them warned\n{qemu}\n{ours}");
    }

    public static void AssertSameLines(string[] qemu, string[] ours) =>
        Assert.True(qemu.SequenceEqual(ours),
            $"stderr lines differ\nqemu-img:\n{string.Join('\n', qemu)}\nqcow2:\n{string.Join('\n', ours)}");

    private static string Summary(CheckRun run, bool ignoreEndOffset) =>
        ignoreEndOffset ? EndOffsetLine().Replace(run.StandardOutput, "Image end offset: (ignored)") : run.StandardOutput;

    [GeneratedRegex(@"Image end offset: \d+")]
    private static partial Regex EndOffsetLine();

    internal static string[] ProblemLines(string stderr)
    {
        // QEMU's bitmap warning has a second line without a newline, so the next problem line is glued to it.
        var text = BitmapWarning().Replace(stderr, "\n");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith("qemu-img: warning: ", StringComparison.Ordinal) && !line.StartsWith("qcow2: warning: ", StringComparison.Ordinal))
            // QEMU's driver-level corruption events ("qcow2: Image is corrupt: …", "qcow2: Marking image as corrupt: …") are not check output.
            .Where(line => !line.StartsWith("qcow2: Image is corrupt: ", StringComparison.Ordinal) && !line.StartsWith("qcow2: Marking image as corrupt: ", StringComparison.Ordinal))
            .Select(line => line.StartsWith("qemu-img: ", StringComparison.Ordinal) ? "qcow2: " + line["qemu-img: ".Length..] : line)
            .ToArray();
    }

    [GeneratedRegex(@"Some clusters may be leaked, run 'qemu-img check -r' on the image file to fix\.")]
    private static partial Regex BitmapWarning();

    public static string Hash(string file) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));

    public static string Copy(TempDir dir, string image, string name)
    {
        var copy = dir.File(name);
        File.Copy(image, copy);
        return copy;
    }
}
