using System.Collections.Concurrent;

namespace Qcow2.Tests.Infrastructure;

/// <summary>
/// Builds a named set of images once per test run (some, like LUKS images, are slow to make) and hands each test its own
/// copy, so that tests that write, and qemu-img and qcow2 reading side by side, never share a file.
/// </summary>
public static class ImageCache
{
    private static readonly ConcurrentDictionary<string, Lazy<TempDir>> Built = new();

    static ImageCache() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var built in Built.Values)
        {
            if (built.IsValueCreated)
                built.Value.Dispose();
        }
    };

    /// <summary>Copies the folder <paramref name="build"/> makes for <paramref name="key"/> (made on first use) into <paramref name="dir"/>.</summary>
    public static void CopyInto(string key, Action<TempDir> build, TempDir dir)
    {
        var template = Built.GetOrAdd(key, _ => new Lazy<TempDir>(() =>
        {
            var built = new TempDir();
            build(built);
            return built;
        })).Value.Path;
        foreach (var file in Directory.EnumerateFiles(template, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(dir.Path, Path.GetRelativePath(template, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
