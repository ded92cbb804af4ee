using Qcow2.Tests.Infrastructure;
using Xunit.Abstractions;
using static Qcow2.Tests.GuestData.GuestImages;

namespace Qcow2.Tests.GuestData;

/// <summary>
/// Model-based: seeded random writes, zero-writes, discards, reads and flushes of random sizes and alignments go to an image
/// through our API and to a raw shadow. Reads must equal the shadow throughout; afterwards QEMU must read the shadow back
/// (<c>qemu-img compare</c>), find the image clean (<c>qemu-img check</c>), and the enabled bitmaps must cover every changed range.
/// A failure prints its seed; replay it with <c>GUEST_SEED=n dotnet test --filter FullyQualifiedName~RandomWriteModelTests</c>.
/// </summary>
[Trait("Category", "Interop")]
public sealed class RandomWriteModelTests(ITestOutputHelper output)
{
    private static readonly int BaseSeed = int.TryParse(Environment.GetEnvironmentVariable("GUEST_SEED"), out var seed) ? seed : 13;

    public static TheoryData<string> Kinds() => ["snapshot-bitmap-64k", "extended-l2-backing", "v2-512", "zstd-compressed-snapshot", "data-file-raw", "lazy-refcounts-backing-4k"];

    [QemuTheory]
    [MemberData(nameof(Kinds))]
    public void Random_operations_match_a_raw_shadow(string kind)
    {
        var seed = BaseSeed + kind.Length * 1000 + kind[0];
        try
        {
            Run(kind, seed);
        }
        catch (Exception e)
        {
            output.WriteLine($"replay: GUEST_SEED={BaseSeed} (kind {kind}, seed {seed})");
            throw new Xunit.Sdk.XunitException($"{kind} with seed {seed} (GUEST_SEED={BaseSeed}): {e}");
        }
    }

    private static void Run(string kind, int seed)
    {
        using var dir = new TempDir();
        var (path, options, bitmap) = Make(kind, dir);
        var shadow = QemuRaw(path, dir);
        var snapshotBefore = HasSnapshot(kind) ? SnapshotRaw(path, dir) : null;
        var random = new Random(seed);
        var changed = new List<Qcow2GuestRange>();
        using (var image = Qcow2Image.Open(path, options))
        {
            var size = image.VirtualSize;
            var cluster = image.ClusterSize;
            for (var step = 0; step < 150; step++)
            {
                var (offset, length) = RandomRange(random, size, random.Next(3) == 0 ? 4 * cluster : 200_000);
                switch (random.Next(10))
                {
                    case < 4:
                        var data = new byte[length];
                        random.NextBytes(data);
                        image.Write(offset, data);
                        data.CopyTo(shadow, offset);
                        changed.Add(new Qcow2GuestRange(offset, length));
                        break;
                    case < 6:
                        image.WriteZeroes(offset, length);
                        Array.Clear(shadow, (int)offset, length);
                        changed.Add(new Qcow2GuestRange(offset, length));
                        break;
                    case < 7:
                        image.Discard(offset, length);
                        // QEMU's discard: whole clusters (and a partial last one of the disk) read as zeros afterwards.
                        var first = (offset + cluster - 1) / cluster * cluster;
                        var end = offset + length == size ? size : (offset + length) / cluster * cluster;
                        if (end > first)
                            Array.Clear(shadow, (int)first, (int)(end - first));
                        changed.Add(new Qcow2GuestRange(offset, length));
                        break;
                    case < 9:
                        var read = new byte[length];
                        image.Read(offset, read);
                        Assert.True(read.AsSpan().SequenceEqual(shadow.AsSpan((int)offset, length)), $"step {step}: read of {length} at {offset} differs from the shadow");
                        break;
                    default:
                        image.Flush();
                        break;
                }
            }
            AssertSameBytes(shadow, ReadAll(image), "all reads before close");
        }

        using (var image = Qcow2Image.Open(path, options))
        {
            AssertSameBytes(shadow, ReadAll(image), "reopened");
            if (bitmap is not null)
            {
                var saved = image.Bitmaps.Single(b => b.Name == bitmap);
                Assert.False(saved.InUse);
                var dirty = image.GetDirtyRanges(bitmap).ToList();
                foreach (var range in changed)
                    Assert.True(dirty.Any(d => d.Start <= range.Start && range.End <= d.End) || Covered(dirty, range), $"bitmap misses {range}");
            }
        }
        var shadowFile = dir.File("shadow.raw");
        File.WriteAllBytes(shadowFile, shadow);
        var compare = Qemu.Img("compare", "-f", "qcow2", "-F", "raw", path, shadowFile);
        Assert.True(compare.ExitCode == 0, $"qemu-img compare: {compare.StandardOutput}{compare.StandardError}");
        if (snapshotBefore is not null)
            AssertSameBytes(snapshotBefore, SnapshotRaw(path, dir), "snapshot s1 after our writes");
        var check = Qemu.Img("check", "-f", "qcow2", path);
        Assert.True(check.ExitCode == 0 && !check.StandardOutput.Contains("leaked", StringComparison.Ordinal), $"qemu-img check: {check.StandardOutput}{check.StandardError}");
        // qemu-io reads a changed range back as we wrote it.
        if (changed.Count > 0)
        {
            var last = changed[^1];
            var expected = shadow.AsSpan((int)last.Start, (int)Math.Min(last.Length, 512)).ToArray();
            var allSame = expected.All(b => b == expected[0]);
            if (allSame)
                Io(path, $"read -P {expected[0]} {last.Start} {expected.Length}");
        }
    }

    private static bool HasSnapshot(string kind) => kind.Contains("snapshot", StringComparison.Ordinal) || kind == "v2-512";

    /// <summary>The guest view of snapshot s1, as QEMU reads it.</summary>
    private static byte[] SnapshotRaw(string path, TempDir dir)
    {
        var raw = dir.File("s1.raw");
        Img("convert", "-f", "qcow2", "-O", "raw", "-l", "snapshot.name=s1", path, raw);
        var bytes = File.ReadAllBytes(raw);
        File.Delete(raw);
        return bytes;
    }

    private static bool Covered(List<Qcow2GuestRange> dirty, Qcow2GuestRange range)
    {
        var at = range.Start;
        foreach (var d in dirty.OrderBy(d => d.Start))
        {
            if (d.Start <= at && d.End > at)
                at = d.End;
        }
        return at >= range.End;
    }

    private static (long Offset, int Length) RandomRange(Random random, long size, int maxLength)
    {
        var length = random.Next(1, maxLength);
        if (random.Next(2) == 0)
            length = Math.Max(512, length / 512 * 512);
        length = (int)Math.Min(length, size);
        var offset = random.NextInt64(size - length + 1);
        if (random.Next(2) == 0)
            offset = offset / 512 * 512;
        if (random.Next(8) == 0)
            offset = size - length;
        return (offset, length);
    }

    private static (string Path, Qcow2OpenOptions Options, string? Bitmap) Make(string kind, TempDir dir)
    {
        var path = dir.File("x.qcow2");
        var writable = new Qcow2OpenOptions { Writable = true, OpenBackingChain = true, OpenDataFile = true };
        switch (kind)
        {
            case "snapshot-bitmap-64k":
                Img("create", "-q", "-f", "qcow2", path, "12M");
                Io(path, "write -P 0x11 0 6M", "write -c -P 0x12 8M 64k");
                Img("snapshot", "-c", "s1", path);
                Io(path, "write -P 0x13 1M 1M");
                Img("bitmap", "--add", path, "b0");
                return (path, writable, "b0");
            case "extended-l2-backing":
                var backing = dir.File("base.qcow2");
                Img("create", "-q", "-f", "qcow2", backing, "10M");
                Io(backing, "write -P 0x21 0 9M");
                Img("create", "-q", "-f", "qcow2", "-o", "extended_l2=on,cluster_size=32k", "-b", backing, "-F", "qcow2", path, "12M");
                Io(path, "write -P 0x22 3k 5k", "write -z 1M 64k");
                Img("bitmap", "--add", "-g", "4096", path, "fine");
                return (path, writable, "fine");
            case "v2-512":
                Img("create", "-q", "-f", "qcow2", "-o", "compat=0.10,cluster_size=512", path, "6M");
                Io(path, "write -P 0x31 0 1M");
                Img("snapshot", "-c", "s1", path);
                return (path, writable, null);
            case "zstd-compressed-snapshot":
                var raw = dir.File("src.raw");
                WriteMixedRaw(raw, 10 << 20, 5);
                Img("convert", "-q", "-c", "-f", "raw", "-O", "qcow2", "-o", "compression_type=zstd", raw, path);
                Img("snapshot", "-c", "s1", path);
                return (path, writable, null);
            case "data-file-raw":
                Img("create", "-q", "-f", "qcow2", "-o", $"data_file={dir.File("x.data")},data_file_raw=on", path, "8M");
                Io(path, "write -P 0x41 0 2M");
                return (path, writable, null);
            case "lazy-refcounts-backing-4k":
                var lower = dir.File("lower.qcow2");
                Img("create", "-q", "-f", "qcow2", lower, "8M");
                Io(lower, "write -P 0x51 0 8M");
                Img("create", "-q", "-f", "qcow2", "-o", "lazy_refcounts=on,cluster_size=4k", "-b", lower, "-F", "qcow2", path);
                Img("bitmap", "--add", path, "b4k");
                return (path, writable, "b4k");
            default:
                throw new ArgumentException(kind);
        }
    }
}
