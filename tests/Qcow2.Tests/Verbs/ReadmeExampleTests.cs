using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Verbs;

/// <summary>The README's incremental-backup walk-through is a script; it runs here as it stands, and the README quotes it.</summary>
[Trait("Category", "Interop")]
public sealed class ReadmeExampleTests
{
    [QemuFact]
    public void Incremental_backup_walk_through_restores_every_day()
    {
        var root = RepositoryRoot();
        var script = Path.Combine(root, "docs", "examples", "incremental-backup.sh");
        using var dir = new TempDir();
        var tool = typeof(Qcow2.Tool.Cli).Assembly.Location;
        var result = Qemu.Run("bash", "-c", $"cd '{dir.Path}' && QCOW2='dotnet {tool}' bash '{script}'");
        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
        Assert.EndsWith("restored byte for byte\n", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(3, result.StandardOutput.Split("image: ").Length - 1);
        // The increments hold only what changed.
        Assert.True(new FileInfo(dir.File("inc1.qcow2")).Length < new FileInfo(dir.File("full.qcow2")).Length / 4);

        // Every backup and restore line of the walk-through is in the README as it is in the script.
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        foreach (var line in File.ReadLines(script).Where(l => l.StartsWith("qcow2 ", StringComparison.Ordinal) || (l.StartsWith("qemu-img convert", StringComparison.Ordinal) && l.Contains(" restore", StringComparison.Ordinal))))
            Assert.Contains(line, readme, StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        for (var dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
            if (File.Exists(Path.Combine(dir, "BinaryFormat.sln")))
                return dir;
        throw new InvalidOperationException("BinaryFormat.sln not found above " + AppContext.BaseDirectory);
    }
}
