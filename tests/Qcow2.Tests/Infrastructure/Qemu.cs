using System.Diagnostics;
using System.Text.Json;

namespace Qcow2.Tests.Infrastructure;

/// <summary>The result of running an external program.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public ProcessResult EnsureSuccess(string what)
    {
        if (ExitCode != 0)
            throw new InvalidOperationException($"{what} exited {ExitCode}: {StandardError}{StandardOutput}");
        return this;
    }
}

/// <summary>Runs the real qemu-img and qemu-io, which interop tests compare against.</summary>
public static class Qemu
{
    private static readonly Lazy<string?> QemuImgPath = new(() => FindOnPath("qemu-img"));
    private static readonly Lazy<string?> QemuIoPath = new(() => FindOnPath("qemu-io"));

    /// <summary>Why interop tests cannot run here, or null when qemu-img and qemu-io are installed.</summary>
    public static string? MissingReason =>
        QemuImgPath.Value is not null && QemuIoPath.Value is not null
            ? null
            : "qemu-img/qemu-io not found on PATH (install the Debian package qemu-utils; .ci/run does)";

    /// <summary>The path of qemu-io, for tests that start it themselves.</summary>
    public static string IoPath => QemuIoPath.Value ?? throw Missing();

    public static ProcessResult Img(params string[] args) => Run(QemuImgPath.Value ?? throw Missing(), args);

    public static ProcessResult Io(params string[] args) => Run(QemuIoPath.Value ?? throw Missing(), args);

    /// <summary>`qemu-img info --output=json` parsed.</summary>
    public static JsonElement InfoJson(string image) =>
        JsonDocument.Parse(Img("info", "--output=json", "-f", "qcow2", image).EnsureSuccess("qemu-img info").StandardOutput).RootElement.Clone();

    /// <summary>`qemu-img check --output=json`; returns the exit code and the parsed JSON (null when none was printed).</summary>
    public static (int ExitCode, JsonElement? Json, string StandardError) CheckJson(string image)
    {
        var result = Img("check", "--output=json", "-f", "qcow2", image);
        JsonElement? json = string.IsNullOrWhiteSpace(result.StandardOutput)
            ? null
            : JsonDocument.Parse(result.StandardOutput).RootElement.Clone();
        return (result.ExitCode, json, result.StandardError);
    }

    public static ProcessResult Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    private static Exception Missing() => new InvalidOperationException(MissingReason);

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}

/// <summary>
/// A fact that needs the real qemu-img/qemu-io. It skips, saying why, only outside CI; with CI=true it runs
/// and fails loudly if the tools are missing, so interop tests never skip silently there. It carries the trait
/// <c>Category=Interop</c> (as <c>[Trait("Category", "Interop")]</c> would), so <c>--filter Category!=Interop</c> is the fast loop.
/// </summary>
[Xunit.Sdk.TraitDiscoverer("Qcow2.Tests.Infrastructure.InteropTraitDiscoverer", "Qcow2.Tests")]
public sealed class QemuFactAttribute : FactAttribute, Xunit.Sdk.ITraitAttribute
{
    public QemuFactAttribute()
    {
        if (Qemu.MissingReason is { } reason && !IsCi)
            Skip = reason;
    }

    internal static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The theory counterpart of <see cref="QemuFactAttribute"/>, with the same <c>Category=Interop</c> trait.</summary>
[Xunit.Sdk.TraitDiscoverer("Qcow2.Tests.Infrastructure.InteropTraitDiscoverer", "Qcow2.Tests")]
public sealed class QemuTheoryAttribute : TheoryAttribute, Xunit.Sdk.ITraitAttribute
{
    public QemuTheoryAttribute()
    {
        if (Qemu.MissingReason is { } reason && !QemuFactAttribute.IsCi)
            Skip = reason;
    }
}

/// <summary>Gives <see cref="QemuFactAttribute"/> and <see cref="QemuTheoryAttribute"/> tests the trait <c>Category=Interop</c>.</summary>
public sealed class InteropTraitDiscoverer : Xunit.Sdk.ITraitDiscoverer
{
    public IEnumerable<KeyValuePair<string, string>> GetTraits(Xunit.Abstractions.IAttributeInfo traitAttribute) => [new("Category", "Interop")];
}

/// <summary>A scratch folder deleted when the test ends.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "qcow2-tests-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
