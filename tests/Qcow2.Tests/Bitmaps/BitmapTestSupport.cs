using System.Text.Json;
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Bitmaps;

/// <summary>Helpers shared by the bitmap tests.</summary>
internal static class BitmapTestSupport
{
    public static void Create(string path, string size, string? options = null)
    {
        var args = new List<string> { "create", "-q", "-f", "qcow2" };
        if (options is not null)
            args.AddRange(["-o", options]);
        args.AddRange([path, size]);
        Qemu.Img([.. args]).EnsureSuccess("qemu-img create");
    }

    /// <summary>qemu-io writes of (offset, length) pairs; qemu-io opens writable, so enabled bitmaps record them.</summary>
    public static void Write(string path, params (long Offset, long Length)[] writes)
    {
        var args = new List<string> { "-f", "qcow2" };
        foreach (var (offset, length) in writes)
            args.AddRange(["-c", $"write -q {offset} {length}"]);
        args.Add(path);
        Qemu.Io([.. args]).EnsureSuccess("qemu-io write");
    }

    /// <summary>The "bitmaps" array of qemu-img info as text, or "(none)".</summary>
    public static string QemuBitmaps(string path) =>
        Qemu.InfoJson(path).GetProperty("format-specific").GetProperty("data").TryGetProperty("bitmaps", out var b) ? b.ToString() : "(none)";

    /// <summary>The whole qcow2 "format-specific" data of qemu-img info as text.</summary>
    public static string QemuFormatData(string path) => Qemu.InfoJson(path).GetProperty("format-specific").GetProperty("data").ToString();

    public static void AssertQemuCheckClean(string path)
    {
        var (exit, _, stderr) = Qemu.CheckJson(path);
        Assert.True(exit == 0, $"qemu-img check exited {exit}: {stderr}");
    }

    /// <summary>Every bitmap's name, flags, granularity and dirty ranges, read with our library (in-use ones without ranges).</summary>
    public static string State(string path)
    {
        using var image = Qcow2Image.Open(path);
        return State(image);
    }

    public static string State(Qcow2Image image) => string.Join("\n", image.Bitmaps.Select(b =>
        $"{b.Name} inuse={b.InUse} auto={b.Enabled} gran={b.Granularity}: " +
        (b.InUse ? "-" : string.Join(" ", image.GetDirtyRanges(b.Name).Select(r => $"{r.Start}+{r.Length}")))));

    public static List<Qcow2GuestRange> Dump(string path, string name)
    {
        using var image = Qcow2Image.Open(path);
        return image.GetDirtyRanges(name).ToList();
    }

    /// <summary>The written ranges rounded out to the granularity, clipped to the size, sorted and coalesced.</summary>
    public static List<Qcow2GuestRange> Expected(long granularity, long size, params (long Offset, long Length)[] writes)
    {
        var rounded = writes
            .Select(w => (Start: w.Offset / granularity * granularity, End: Math.Min(size, (w.Offset + w.Length + granularity - 1) / granularity * granularity)))
            .OrderBy(r => r.Start)
            .ToList();
        var result = new List<Qcow2GuestRange>();
        foreach (var (start, end) in rounded)
        {
            if (result.Count > 0 && result[^1].End >= start)
            {
                var last = result[^1];
                result[^1] = new Qcow2GuestRange(last.Start, Math.Max(last.End, end) - last.Start);
            }
            else
                result.Add(new Qcow2GuestRange(start, end - start));
        }
        return result;
    }

    public static string Text(IEnumerable<Qcow2GuestRange> ranges) => string.Join(" ", ranges.Select(r => $"{r.Start}+{r.Length}"));

    public static ulong Autoclear(string path)
    {
        var header = new byte[96];
        using var file = File.OpenRead(path);
        file.ReadExactly(header);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(88));
    }

    /// <summary>Sets the in_use flag of a bitmap by editing its directory entry, as a crashed QEMU leaves it.</summary>
    public static void MarkInUse(string path, string name)
    {
        long entryOffset;
        using (var image = Qcow2Image.Open(path))
            entryOffset = image.Bitmaps.Single(b => b.Name == name).EntryOffset;
        using var file = File.Open(path, FileMode.Open, FileAccess.ReadWrite);
        var flags = new byte[4];
        file.Position = entryOffset + 12;
        file.ReadExactly(flags);
        flags[3] |= 1;
        file.Position = entryOffset + 12;
        file.Write(flags);
    }

    public static JsonElement ParseJson(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
