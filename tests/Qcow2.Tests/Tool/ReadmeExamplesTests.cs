using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Tool;

/// <summary>
/// Every <c>$ qcow2 …</c> session in README.md, run in order in one folder through the tool, with the output compared line
/// by line, so that the examples cannot drift from what the tool does. Only <c>disk size</c> (it depends on the file
/// system) is not compared. <c>image.qcow2</c>, which the check example uses, is made with qemu-img and one byte edit.
/// </summary>
public sealed class ReadmeExamplesTests
{
    private const string Prompt = "$ ";
    private static readonly string[] Commands = ["qcow2 ", "dotnet run --project src/Qcow2.Tool -- "];

    [QemuFact]
    public void Every_session_in_the_readme_prints_what_it_shows()
    {
        var sessions = Sessions(File.ReadAllLines(Path.Combine(RepositoryRoot(), "README.md")));
        Assert.True(sessions.Count >= 5, $"only {sessions.Count} sessions found");
        using var dir = new TempDir();
        var lastExit = 0;
        foreach (var (command, expected) in sessions.SelectMany(s => s))
        {
            string actual;
            if (command == "echo $?")
                actual = lastExit + "\n";
            else
            {
                var text = command;
                var printExit = text.EndsWith("; echo \"exit=$?\"", StringComparison.Ordinal);
                if (printExit)
                    text = text[..text.IndexOf(';', StringComparison.Ordinal)];
                var args = text[Commands.First(text.StartsWith).Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Select(a => a.EndsWith(".qcow2", StringComparison.Ordinal) ? dir.File(a) : a).ToArray();
                if (args.Contains(dir.File("image.qcow2")) && !File.Exists(dir.File("image.qcow2")))
                    MakeImageWithALeak(dir.File("image.qcow2"));
                var result = ToolRunner.Run(args);
                lastExit = result.ExitCode;
                actual = (result.StandardError + result.StandardOutput).Replace(dir.Path + "/", "", StringComparison.Ordinal)
                    + (printExit ? $"exit={result.ExitCode}\n" : "");
            }
            Assert.Equal(Normalise(expected), Normalise(actual.Split('\n')[..^1]), StringComparer.Ordinal);
        }
    }

    /// <summary>The sessions: fenced blocks whose commands are all the tool's (or <c>echo $?</c>), as (command, output lines).</summary>
    private static List<List<(string Command, string[] Output)>> Sessions(string[] lines)
    {
        var sessions = new List<List<(string, string[])>>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("```", StringComparison.Ordinal))
                continue;
            var end = Array.FindIndex(lines, i + 1, l => l.StartsWith("```", StringComparison.Ordinal));
            var block = lines[(i + 1)..end];
            i = end;
            var prompts = block.Where(l => l.StartsWith(Prompt, StringComparison.Ordinal)).Select(l => StripComment(l[Prompt.Length..])).ToList();
            if (prompts.Count == 0 || !prompts.All(c => c == "echo $?" || Commands.Any(c.StartsWith)))
                continue;
            var session = new List<(string, string[])>();
            for (var j = Array.FindIndex(block, l => l.StartsWith(Prompt, StringComparison.Ordinal)); j < block.Length; j++)
            {
                var output = block[(j + 1)..].TakeWhile(l => !l.StartsWith(Prompt, StringComparison.Ordinal)).ToArray();
                session.Add((StripComment(block[j][Prompt.Length..]), output));
                j += output.Length;
            }
            sessions.Add(session);
        }
        return sessions;
    }

    /// <summary>A trailing comment after two or more spaces, as the README writes them.</summary>
    private static string StripComment(string command)
    {
        var comment = command.IndexOf("  #", StringComparison.Ordinal);
        return (comment < 0 ? command : command[..comment]).TrimEnd();
    }

    private static string[] Normalise(string[] lines) =>
        lines.Select(l => l.StartsWith("disk size: ", StringComparison.Ordinal) ? "disk size: (depends on the file system)" : l).ToArray();

    /// <summary>64 MiB, 64 KiB clusters, 192 KiB written (clusters 5-7), and cluster 8 counted but unused: one leak.</summary>
    private static void MakeImageWithALeak(string path)
    {
        Qemu.Img("create", "-q", "-f", "qcow2", path, "64M").EnsureSuccess("create");
        Qemu.Io("-c", "write 0 192k", path).EnsureSuccess("write");
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        // The refcount block is cluster 2; 16-bit big-endian refcounts.
        file.Position = 2 * 65536 + 8 * 2;
        file.Write([0, 1]);
        file.SetLength(9 * 65536);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "BinaryFormat.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException("BinaryFormat.sln not found above " + AppContext.BaseDirectory);
    }
}
