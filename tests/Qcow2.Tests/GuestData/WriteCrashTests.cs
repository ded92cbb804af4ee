using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.GuestData.GuestImages;

namespace Qcow2.Tests.GuestData;

/// <summary>
/// A random workload of writes (with copy-on-write from a snapshot and a backing file), zero-writes, discards and flushes,
/// cut after every single write it makes: what reached the disk must open in qemu-img with at most leaked clusters, every
/// operation that finished must read back, and an enabled bitmap must be in use or cover every finished change.
/// </summary>
[Trait("Category", "Interop")]
public sealed class WriteCrashTests
{
    private sealed record Step(string Kind, long Offset, int Length, byte[]? Data);

    [QemuTheory]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    public void Every_prefix_of_the_writes_is_consistent(bool extendedL2, int seed)
    {
        using var dir = new TempDir();
        var backing = dir.File("base.qcow2");
        Img("create", "-q", "-f", "qcow2", backing, "2M");
        Io(backing, "write -P 0x5A 0 2M");
        var path = dir.File("top.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", $"cluster_size={(extendedL2 ? "16k" : "4k")},extended_l2={(extendedL2 ? "on" : "off")}", "-b", backing, "-F", "qcow2", path, "2M");
        Io(path, "write -P 0x11 0 256k", "write -z 512k 64k");
        Img("snapshot", "-c", "s1", path);
        Img("bitmap", "--add", path, "b0");
        var original = File.ReadAllBytes(path);
        var start = QemuRaw(path, dir);

        var random = new Random(seed);
        var steps = new List<Step>();
        for (var i = 0; i < 14; i++)
        {
            var offset = random.NextInt64(2 << 20);
            var length = (int)Math.Min(random.Next(1, 40_000), (2 << 20) - offset);
            var kind = i % 5 == 4 ? "flush" : random.Next(4) switch { 0 => "zero", 1 => "discard", _ => "write" };
            byte[]? data = null;
            if (kind == "write")
            {
                data = new byte[length];
                random.NextBytes(data);
            }
            steps.Add(new Step(kind, offset, length, data));
        }

        // One full run counts the writes and where each step ends.
        var ends = Run(original, int.MaxValue, steps, out var total);
        var shadows = new List<byte[]> { start };
        foreach (var step in steps)
            shadows.Add(Apply((byte[])shadows[^1].Clone(), step, extendedL2 ? 16384 : 4096));

        Assert.InRange(total, 20, 2000);
        for (var crash = 0; crash <= total; crash++)
        {
            var stream = new CrashAfterWritesStream(original, crash);
            Run(stream, steps);
            var crashed = dir.File($"crash{crash}.qcow2");
            File.WriteAllBytes(crashed, stream.PersistedBytes);
            var check = Qemu.Img("check", "-f", "qcow2", crashed);
            Assert.True(check.ExitCode is 0 or 3, $"crash after {crash} writes: qemu-img check exit {check.ExitCode}: {check.StandardOutput}{check.StandardError}");

            var done = ends.Count(end => end <= crash);
            using var image = Qcow2Image.Open(crashed, new Qcow2OpenOptions { OpenBackingChain = true });
            var actual = ReadAll(image);
            var expected = shadows[done];
            var inFlight = done < steps.Count ? steps[done] : null;
            // The step in flight may have changed its clusters or not; everything else is exactly the finished steps' result.
            var (skipStart, skipEnd) = inFlight is null ? (0, 0) : ((int)Math.Max(0, inFlight.Offset - 65536), (int)Math.Min(expected.Length, inFlight.Offset + inFlight.Length + 65536));
            AssertSameBytes(expected[..skipStart], actual[..skipStart], $"crash after {crash} writes ({done} steps done), before the step in flight");
            AssertSameBytes(expected[skipEnd..], actual[skipEnd..], $"crash after {crash} writes ({done} steps done), after the step in flight");
            var bitmap = image.Bitmaps.Single();
            if (!bitmap.InUse)
            {
                var dirty = image.GetDirtyRanges("b0").ToList();
                foreach (var step in steps.Take(done).Where(s => s.Kind != "flush"))
                    Assert.True(dirty.Any(d => d.Start <= step.Offset && step.Offset + step.Length <= d.End), $"crash after {crash}: the bitmap is not in use but misses {step}");
            }
            File.Delete(crashed);
        }
    }

    private static byte[] Apply(byte[] shadow, Step step, int cluster)
    {
        switch (step.Kind)
        {
            case "write": step.Data!.CopyTo(shadow, step.Offset); break;
            case "zero": Array.Clear(shadow, (int)step.Offset, step.Length); break;
            case "discard":
                var first = (step.Offset + cluster - 1) / cluster * cluster;
                var end = step.Offset + step.Length == shadow.Length ? shadow.Length : (step.Offset + step.Length) / cluster * cluster;
                if (end > first)
                    Array.Clear(shadow, (int)first, (int)(end - first));
                break;
        }
        return shadow;
    }

    private static List<int> Run(byte[] original, int persisted, List<Step> steps, out int total)
    {
        var stream = new CrashAfterWritesStream(original, persisted);
        var ends = Run(stream, steps);
        total = stream.Writes;
        return ends;
    }

    /// <summary>Runs the steps and closes the image; returns the write count at the end of each step.</summary>
    private static List<int> Run(CrashAfterWritesStream stream, List<Step> steps)
    {
        var ends = new List<int>();
        using (var image = Qcow2Image.Open(stream, new Qcow2OpenOptions { Writable = true, OpenBackingChain = true }))
        {
            foreach (var step in steps)
            {
                switch (step.Kind)
                {
                    case "write": image.Write(step.Offset, step.Data); break;
                    case "zero": image.WriteZeroes(step.Offset, step.Length); break;
                    case "discard": image.Discard(step.Offset, step.Length); break;
                    default: image.Flush(); break;
                }
                ends.Add(stream.Writes);
            }
        }
        // The bitmap store at close belongs to the last step.
        ends[^1] = stream.Writes;
        return ends;
    }
}
