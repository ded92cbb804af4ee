using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.Bitmaps.BitmapTestSupport;

namespace Qcow2.Tests.Bitmaps;

/// <summary>
/// Fault injection: every bitmap change is cut off after each of its writes in turn (<see cref="CrashAfterWritesStream"/>).
/// What reached the disk must always open (ours and qemu-img), have no corruption (leaks allowed), and hold either the old or
/// the new set of bitmaps, each one complete and consistent.
/// </summary>
public sealed class BitmapCrashTests
{
    public static TheoryData<string> Operations => ["add", "remove", "clear", "merge", "enable", "remove-last", "clear+disable", "add+merge+disable+remove"];

    [QemuTheory]
    [MemberData(nameof(Operations))]
    public void A_crash_at_any_write_leaves_the_old_or_the_new_bitmaps(string operation)
    {
        using var dir = new TempDir();
        var basePath = dir.File("base.qcow2");
        // 4 KiB clusters: the 512-byte-granularity bitmap spans four data clusters, so the operations write several.
        Create(basePath, "64M", "cluster_size=4096");
        if (operation == "remove-last")
            Qemu.Img("bitmap", "--add", "-g", "512", basePath, "a").EnsureSuccess("add");
        else
        {
            Qemu.Img("bitmap", "--add", "-g", "512", basePath, "a").EnsureSuccess("add");
            Qemu.Img("bitmap", "--add", "--disable", basePath, "b").EnsureSuccess("add");
            Qemu.Img("bitmap", "--add", "-g", "64k", basePath, "c").EnsureSuccess("add");
        }
        Write(basePath, (0, 4096), (20L << 20, 65536), (50L << 20, 512), ((64L << 20) - 512, 512));
        var original = File.ReadAllBytes(basePath);
        var oldState = State(basePath);
        var oldQemu = QemuBitmaps(basePath);

        var full = new CrashAfterWritesStream(original, int.MaxValue);
        Run(operation, full);
        var writes = full.Writes;
        // Removing the last bitmap is one header write, then one write of the refcount block that frees all its clusters.
        var expectedWrites = operation == "remove-last" ? 2 : 4;
        Assert.True(writes >= expectedWrites, $"{operation} made only {writes} writes");
        var newPath = dir.File("new.qcow2");
        File.WriteAllBytes(newPath, full.PersistedBytes);
        var newState = State(newPath);
        var newQemu = QemuBitmaps(newPath);
        Assert.NotEqual(oldState, newState);
        AssertQemuCheckClean(newPath);

        int sawOld = 0, sawNew = 0;
        var crashed = dir.File("crashed.qcow2");
        for (var n = 0; n <= writes; n++)
        {
            var stream = new CrashAfterWritesStream(original, n);
            Run(operation, stream);
            File.WriteAllBytes(crashed, stream.PersistedBytes);

            string state;
            using (var image = Qcow2Image.Open(crashed))
                state = State(image);
            var qemuBitmaps = QemuBitmaps(crashed);
            if (state == oldState)
            {
                Assert.Equal(oldQemu, qemuBitmaps);
                sawOld++;
            }
            else
            {
                Assert.True(state == newState, $"after {n} of {writes} writes the bitmaps are neither the old nor the new set:\n{state}");
                Assert.Equal(newQemu, qemuBitmaps);
                sawNew++;
            }
            var (exit, json, stderr) = Qemu.CheckJson(crashed);
            Assert.True(exit is 0 or 3, $"after {n} of {writes} writes qemu-img check exited {exit}: {stderr}");
            Assert.False(json!.Value.TryGetProperty("corruptions", out var c) && c.GetInt64() != 0, stderr);
        }
        Assert.True(sawOld > 0 && sawNew > 0, $"old {sawOld}, new {sawNew}");
    }

    private static void Run(string operation, CrashAfterWritesStream stream)
    {
        using var image = Qcow2Image.Open(stream, new Qcow2OpenOptions { Writable = true });
        switch (operation)
        {
            case "add":
                image.AddBitmap("new", 1024);
                break;
            case "remove":
                image.RemoveBitmap("a");
                break;
            case "remove-last":
                image.RemoveBitmap("a");
                break;
            case "clear":
                image.ClearBitmap("a");
                break;
            case "merge":
                image.MergeBitmap("b", image, "a");
                break;
            case "enable":
                image.EnableBitmap("b");
                break;
            // Several actions of one `qcow2 bitmap` call commit together.
            case "clear+disable":
                image.ChangeBitmapsTogether(() =>
                {
                    image.ClearBitmap("a");
                    image.DisableBitmap("a");
                });
                break;
            case "add+merge+disable+remove":
                image.ChangeBitmapsTogether(() =>
                {
                    image.AddBitmap("new", 1024);
                    image.MergeBitmap("new", image, "a");
                    image.DisableBitmap("new");
                    image.RemoveBitmap("c");
                });
                break;
        }
    }
}
