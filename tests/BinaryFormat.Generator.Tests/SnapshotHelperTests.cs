using BinaryFormat.Generator.Tests.Infrastructure;

namespace BinaryFormat.Generator.Tests;

/// <summary>The snapshot helper itself: it must fail on differences and on missing files, and accept only when asked.</summary>
public sealed class SnapshotHelperTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("bf-snapshot-").FullName;

    private string Verified => Path.Combine(directory, "T.M.verified.cs");
    private string Received => Path.Combine(directory, "T.M.received.cs");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void MissingVerifiedFileFailsAndWritesReceived()
    {
        var error = Assert.Throws<SnapshotMismatchException>(() => Snapshot.Verify("class A {}", Verified, Received, accept: false));
        Assert.Contains("No verified snapshot", error.Message);
        Assert.Equal("class A {}\n", File.ReadAllText(Received));
        Assert.False(File.Exists(Verified));
    }

    [Fact]
    public void MismatchFailsWithDiffAndWritesReceived()
    {
        File.WriteAllText(Verified, "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n");
        var error = Assert.Throws<SnapshotMismatchException>(() =>
            Snapshot.Verify("line 1\nline 2\nline 3\nline 4 changed\nline 5\nline 6\nline 7\nline 8\n", Verified, Received, accept: false));
        Assert.Contains("-line 4\n", error.Message.Replace("\r\n", "\n"));
        Assert.Contains("+line 4 changed\n", error.Message.Replace("\r\n", "\n"));
        Assert.Contains("@@ -1 +1 @@", error.Message); // the hunk starts 3 lines of context before line 4
        Assert.DoesNotContain("line 8", error.Message); // outside the 3 lines of context
        Assert.True(File.Exists(Received));
    }

    [Fact]
    public void MatchPassesIgnoringLineEndingsAndRemovesStaleReceived()
    {
        File.WriteAllText(Verified, "a\r\nb\r\n");
        File.WriteAllText(Received, "stale");
        Snapshot.Verify("a\nb", Verified, Received, accept: false);
        Assert.False(File.Exists(Received));
    }

    [Fact]
    public void AcceptingOverwritesVerified()
    {
        File.WriteAllText(Verified, "old\n");
        Snapshot.Verify("new", Verified, Received, accept: true);
        Assert.Equal("new\n", File.ReadAllText(Verified));
        Assert.False(File.Exists(Received));
    }
}
