using System.Runtime.CompilerServices;
using System.Text;

namespace BinaryFormat.Generator.Tests.Infrastructure;

/// <summary>
/// A small snapshot assertion that follows Verify's file conventions, because the Verify packages are not available:
/// the approved text lives in <c>Snapshots/{Class}.{Test}.verified.cs</c> beside the test source and is committed;
/// a mismatch writes <c>{Class}.{Test}.received.cs</c> next to it (git-ignored) and fails with a diff.
/// Set <c>ACCEPT_SNAPSHOTS=1</c> (or <c>Verify_AutoVerify=true</c>, as used with Verify, any casing) to accept the received text instead.
/// </summary>
public static class Snapshot
{
    /// <summary>The environment variable that turns a mismatch into an update of the verified file.</summary>
    public const string AcceptVariable = "ACCEPT_SNAPSHOTS";

    public static bool Accepting =>
        IsTrue(Environment.GetEnvironmentVariable(AcceptVariable)) ||
        Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Any(key => key.Equals("Verify_AutoVerify", StringComparison.OrdinalIgnoreCase) && IsTrue(Environment.GetEnvironmentVariable(key)));

    private static bool IsTrue(string? value) =>
        value is not null && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>Compares <paramref name="actual"/> with the verified snapshot of the calling test.</summary>
    public static void Verify(
        string actual,
        string? name = null,
        [CallerMemberName] string testName = "",
        [CallerFilePath] string sourceFile = "")
    {
        var directory = Path.Combine(ProjectDirectory(sourceFile), "Snapshots");
        var className = Path.GetFileNameWithoutExtension(sourceFile);
        var stem = $"{className}.{name ?? testName}";
        Verify(actual, Path.Combine(directory, stem + ".verified.cs"), Path.Combine(directory, stem + ".received.cs"), Accepting);
    }

    /// <summary>
    /// The test project's directory: that of the calling source file, or, when the build mapped source paths
    /// (ContinuousIntegrationBuild / PathMap), the directory above the test assembly that holds the project file.
    /// </summary>
    private static string ProjectDirectory(string sourceFile)
    {
        var fromSource = Path.GetDirectoryName(sourceFile);
        if (fromSource is not null && Directory.Exists(fromSource))
            return fromSource;
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "BinaryFormat.Generator.Tests.csproj")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"cannot find the snapshot directory for {sourceFile}");
    }

    /// <summary>The mechanics, separated from the caller-info plumbing so that the helper itself can be tested.</summary>
    public static void Verify(string actual, string verifiedPath, string receivedPath, bool accept)
    {
        actual = Normalize(actual);
        string? verified = File.Exists(verifiedPath) ? Normalize(File.ReadAllText(verifiedPath)) : null;

        if (verified == actual)
        {
            if (File.Exists(receivedPath))
                File.Delete(receivedPath);
            return;
        }

        if (accept)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(verifiedPath)!);
            File.WriteAllText(verifiedPath, actual);
            if (File.Exists(receivedPath))
                File.Delete(receivedPath);
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(receivedPath)!);
        File.WriteAllText(receivedPath, actual);

        var message = new StringBuilder();
        if (verified is null)
        {
            message.AppendLine($"No verified snapshot: {verifiedPath}");
            message.AppendLine($"The output was written to {receivedPath}.");
        }
        else
        {
            message.AppendLine($"Snapshot mismatch: {verifiedPath}");
            message.AppendLine($"The output was written to {receivedPath}.");
            message.AppendLine($"--- {Path.GetFileName(verifiedPath)}");
            message.AppendLine($"+++ {Path.GetFileName(receivedPath)}");
            message.Append(LineDiff.Unified(verified, actual, context: 3));
        }
        message.AppendLine($"Review it, then accept with {AcceptVariable}=1 (or move the .received.cs over the .verified.cs).");
        throw new SnapshotMismatchException(message.ToString());
    }

    /// <summary>Line endings and a trailing newline must not make a snapshot differ between machines.</summary>
    public static string Normalize(string text)
    {
        text = text.Replace("\r\n", "\n").Replace('\r', '\n');
        return text.EndsWith('\n') ? text : text + "\n";
    }
}

public sealed class SnapshotMismatchException(string message) : Exception(message);

/// <summary>A unified-style line diff (longest common subsequence) for failure messages.</summary>
public static class LineDiff
{
    public static string Unified(string expected, string actual, int context)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');

        // Trim the common prefix and suffix so the quadratic table only covers the changed middle.
        int prefix = 0;
        while (prefix < a.Length && prefix < b.Length && a[prefix] == b[prefix])
            prefix++;
        int suffix = 0;
        while (suffix < a.Length - prefix && suffix < b.Length - prefix && a[^(suffix + 1)] == b[^(suffix + 1)])
            suffix++;

        var ops = new List<(char Kind, string Line, int A, int B)>();
        for (int i = 0; i < prefix; i++)
            ops.Add((' ', a[i], i, i));

        int n = a.Length - prefix - suffix, m = b.Length - prefix - suffix;
        if ((long)n * m > 4_000_000)
        {
            for (int i = 0; i < n; i++) ops.Add(('-', a[prefix + i], prefix + i, -1));
            for (int j = 0; j < m; j++) ops.Add(('+', b[prefix + j], -1, prefix + j));
        }
        else
        {
            var lcs = new int[n + 1, m + 1];
            for (int i = n - 1; i >= 0; i--)
                for (int j = m - 1; j >= 0; j--)
                    lcs[i, j] = a[prefix + i] == b[prefix + j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            int x = 0, y = 0;
            while (x < n || y < m)
            {
                if (x < n && y < m && a[prefix + x] == b[prefix + y]) { ops.Add((' ', a[prefix + x], prefix + x, prefix + y)); x++; y++; }
                else if (y < m && (x == n || lcs[x, y + 1] >= lcs[x + 1, y])) { ops.Add(('+', b[prefix + y], -1, prefix + y)); y++; }
                else { ops.Add(('-', a[prefix + x], prefix + x, -1)); x++; }
            }
        }
        for (int i = 0; i < suffix; i++)
            ops.Add((' ', a[a.Length - suffix + i], a.Length - suffix + i, b.Length - suffix + i));

        // Print hunks: changed lines with `context` unchanged lines around them.
        var output = new StringBuilder();
        var show = new bool[ops.Count];
        for (int k = 0; k < ops.Count; k++)
            if (ops[k].Kind != ' ')
                for (int c = Math.Max(0, k - context); c <= Math.Min(ops.Count - 1, k + context); c++)
                    show[c] = true;
        for (int k = 0; k < ops.Count; k++)
        {
            if (!show[k]) continue;
            if (k == 0 || !show[k - 1])
            {
                int aLine = 1, bLine = 1;
                for (int p = k; p < ops.Count; p++)
                {
                    if (ops[p].A >= 0) { aLine = ops[p].A + 1; break; }
                }
                for (int p = k; p < ops.Count; p++)
                {
                    if (ops[p].B >= 0) { bLine = ops[p].B + 1; break; }
                }
                output.AppendLine($"@@ -{aLine} +{bLine} @@");
            }
            output.Append(ops[k].Kind).AppendLine(ops[k].Line);
        }
        return output.ToString();
    }
}
