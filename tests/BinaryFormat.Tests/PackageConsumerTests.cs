using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace BinaryFormat.Tests;

/// <summary>
/// Packs src/BinaryFormat.Runtime (the BinaryFormat package: runtime + generator as an analyzer), then builds and runs
/// tests/PackageConsumer copied to a temporary directory outside the repository, restoring the package from a local
/// folder feed. Takes ~15-30 s; exclude with <c>--filter Category!=Packaging</c>.
/// </summary>
[Trait("Category", "Packaging")]
public sealed class PackageConsumerTests : IDisposable
{
    private readonly DirectoryInfo work = Directory.CreateTempSubdirectory("bf-consumer-");

    public void Dispose()
    {
        try { work.Delete(recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public void PackedPackageWorksInAFreshProject()
    {
        var repository = RepositoryRoot();
        // A version no earlier run used, so that no NuGet cache can serve a stale package.
        var version = $"0.0.0-consumer.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        var feed = Path.Combine(work.FullName, "feed");

        // --artifacts-path keeps this build's bin/obj out of the working tree, so it cannot collide with a concurrent
        // build there (and proves the package does not depend on the generator sitting in its bin/ folder).
        Dotnet(repository, "pack", Path.Combine(repository, "src", "BinaryFormat.Runtime"), "-c", "Release", "-o", feed,
            "--artifacts-path", Path.Combine(work.FullName, "artifacts"), $"-p:Version={version}", "--nologo");

        var package = Path.Combine(feed, $"BinaryFormat.{version}.nupkg");
        Assert.True(File.Exists(package), $"no {package}; the feed holds: {string.Join(", ", Directory.GetFiles(feed))}");
        AssertPackageLayout(package, version);

        var project = Path.Combine(work.FullName, "consumer");
        Directory.CreateDirectory(project);
        foreach (var file in new[] { "PackageConsumer.csproj", "Program.cs" })
            File.Copy(Path.Combine(repository, "tests", "PackageConsumer", file), Path.Combine(project, file));
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="binaryformat-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);

        var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(work.FullName, "packages") };
        Dotnet(project, environment, "build", "-c", "Release", $"-p:BinaryFormatVersion={version}", "--nologo");
        var output = Dotnet(project, environment, Path.Combine(project, "bin", "Release", "net10.0", "PackageConsumer.dll"));

        Assert.Equal(
        [
            "version=2 length=4096 flags=1 name=hello",
            "size=32 generic-size=32",
            "FileHeader.Version at offset 4100: 7 is not one of 1, 2",
            "FileHeader.Flags at offset 16: unknown bits 0x0000000000000004 are set (known: 0x3)",
            "4246494C" + "0002" + "0000" + "0000000000001000" + "0000000000000006" + "68656C6C6F000000",
        ], output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));
    }

    /// <summary>
    /// The three packages together, as a user gets them: Qcow2.Format (depending on the BinaryFormat package) used by a fresh
    /// project, and the qcow2 .NET tool installed from the same feed and run on the image that project made.
    /// </summary>
    [Fact]
    public void Qcow2FormatAndTheToolWorkFromALocalFeed()
    {
        var repository = RepositoryRoot();
        var version = $"0.0.0-consumer.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        var feed = Path.Combine(work.FullName, "feed");
        var artifacts = Path.Combine(work.FullName, "artifacts");
        // One pack of the three (BinaryFormat.Packages.slnf), so the shared projects build once.
        Dotnet(repository, "pack", Path.Combine(repository, "BinaryFormat.Packages.slnf"), "-c", "Release", "-o", feed, "--artifacts-path", artifacts,
            $"-p:Version={version}", "--nologo");

        using (var zip = ZipFile.OpenRead(Path.Combine(feed, $"Qcow2.Format.{version}.nupkg")))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
            Assert.Contains("lib/net10.0/Qcow2.Format.dll", entries);
            Assert.Contains("lib/net10.0/Qcow2.Format.xml", entries);
            Assert.Contains("README.md", entries);
            using var nuspecStream = zip.GetEntry("Qcow2.Format.nuspec")!.Open();
            var nuspec = XDocument.Load(nuspecStream);
            XNamespace ns = nuspec.Root!.Name.Namespace;
            var dependencies = nuspec.Descendants(ns + "dependency").Select(d => (d.Attribute("id")!.Value, d.Attribute("version")!.Value)).ToList();
            // The runtime at this very version (never the generator), plus the zstd decompressor for compressed clusters.
            Assert.Contains(("BinaryFormat", version), dependencies);
            Assert.Equal(["BinaryFormat", "ZstdSharp.Port"], dependencies.Select(d => d.Item1).Order());
        }

        var consumer = Path.Combine(work.FullName, "qcow2-consumer");
        Directory.CreateDirectory(consumer);
        foreach (var file in new[] { "Qcow2PackageConsumer.csproj", "Program.cs" })
            File.Copy(Path.Combine(repository, "tests", "Qcow2PackageConsumer", file), Path.Combine(consumer, file));
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="qcow2-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(work.FullName, "packages") };
        Dotnet(consumer, environment, "build", "-c", "Release", $"-p:PackageVersion={version}", "--nologo");
        var output = Dotnet(consumer, environment, Path.Combine(consumer, "bin", "Release", "net10.0", "Qcow2PackageConsumer.dll"), work.FullName);
        Assert.Equal(
        [
            "version=3 size=134217728 cluster=65536 features=None",
            "bitmap backup granularity=65536 enabled=True",
            "corruptions=0 leaks=0",
            "refused: options.AllowShrink",
        ], output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));

        var tools = Path.Combine(work.FullName, "tools");
        Dotnet(consumer, environment, "tool", "install", "--tool-path", tools, "--add-source", feed, "--version", version, "qcow2");
        var info = Run(Path.Combine(tools, "qcow2"), "info", Path.Combine(work.FullName, "disk.qcow2"));
        Assert.Contains("file format: qcow2", info, StringComparison.Ordinal);
        Assert.Contains("virtual size: 128 MiB (134217728 bytes)", info, StringComparison.Ordinal);
    }

    private static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), $"{program} timed out");
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} exited {process.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }

    private static void AssertPackageLayout(string package, string version)
    {
        using var zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("analyzers/dotnet/cs/BinaryFormat.Generator.dll", entries);
        Assert.Contains("lib/net10.0/BinaryFormat.Runtime.dll", entries);
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && e.EndsWith("BinaryFormat.Generator.dll", StringComparison.Ordinal));

        // IntelliSense: the attributes' documentation travels with the runtime assembly.
        using (var docs = zip.GetEntry("lib/net10.0/BinaryFormat.Runtime.xml")!.Open())
        {
            var reserved = XDocument.Load(docs).Descendants("member").Single(m => m.Attribute("name")?.Value == "T:BinaryFormat.ReservedAttribute");
            Assert.Contains("must be zero", reserved.Element("summary")!.Value, StringComparison.Ordinal);
        }

        // The package's README is about the package, and its example is the program this test builds.
        string readme;
        using (var reader = new StreamReader(zip.GetEntry("README.md")!.Open()))
            readme = reader.ReadToEnd();
        Assert.StartsWith("# BinaryFormat\n", readme.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("qcow2", readme, StringComparison.OrdinalIgnoreCase);
        var program = File.ReadAllText(Path.Combine(RepositoryRoot(), "tests", "PackageConsumer", "Program.cs")).ReplaceLineEndings("\n");
        var declaration = program[program.IndexOf("[BinaryFormat(", StringComparison.Ordinal)..].TrimEnd();
        Assert.Contains(declaration, readme.ReplaceLineEndings("\n"), StringComparison.Ordinal);

        using var nuspecStream = zip.GetEntry("BinaryFormat.nuspec")!.Open();
        var nuspec = XDocument.Load(nuspecStream);
        XNamespace ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal("BinaryFormat", metadata.Element(ns + "id")!.Value);
        Assert.Equal(version, metadata.Element(ns + "version")!.Value);
        // The generator is shipped inside, not as a package dependency.
        Assert.DoesNotContain(nuspec.Descendants(ns + "dependency"), d => d.Attribute("id")?.Value.Contains("Generator", StringComparison.Ordinal) == true);
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

    private static string Dotnet(string workingDirectory, params string[] arguments) =>
        Dotnet(workingDirectory, new Dictionary<string, string>(), arguments);

    private static string Dotnet(string workingDirectory, Dictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        // The test host runs under MSBuild/VSTest; their variables must not leak into the child builds.
        foreach (var key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
                start.Environment.Remove(key);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
            start.Environment[key] = value;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // Generous: a cold Release build of the three packages on a busy 2-core machine takes minutes.
        if (!process.WaitForExit(TimeSpan.FromMinutes(6)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', arguments)} timed out");
        }
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited {process.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }
}
