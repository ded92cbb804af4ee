using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.GuestData.GuestImages;

namespace Qcow2.Tests.Verbs;

/// <summary>
/// Offline incremental backup: a full backup and increments from a dirty bitmap, written by QEMU and by this library in turn,
/// each restored with <c>qemu-img convert</c> and compared with a raw copy of the disk taken at that moment.
/// </summary>
[Trait("Category", "Interop")]
public sealed class BackupTests
{
    [QemuFact]
    public void Five_increments_restore_the_disk_as_it_was()
    {
        using var dir = new TempDir();
        var disk = dir.File("disk.qcow2");
        Img("create", "-q", "-f", "qcow2", disk, "16M");
        Img("bitmap", "--add", disk, "changes");
        Io(disk, "write -P 0x11 0 3M", "write -P 0x12 9M 2M");
        var random = new Random(14);
        string? previous = null;
        for (var backup = 0; backup <= 5; backup++)
        {
            if (backup > 0)
                ChangeDisk(disk, random, throughQemu: backup % 2 == 0);
            var snapshot = dir.File($"snapshot{backup}.raw");
            Img("convert", "-O", "raw", disk, snapshot);
            var target = dir.File($"backup{backup}.qcow2");
            string[] args = previous is null
                ? ["backup", "--bitmap", "changes", "--clear", disk, target]
                : ["backup", "--bitmap", "changes", "--clear", "--backing", previous, disk, target];
            var output = ToolRunner.Run(args).EnsureSuccess().StandardOutput;
            Assert.StartsWith(previous is null ? "Full backup" : "Incremental backup", output, StringComparison.Ordinal);
            Assert.Equal(0, Qemu.CheckJson(target).ExitCode);
            using (var image = Qcow2Image.Open(disk))
                Assert.Empty(image.GetDirtyRanges("changes"));
            previous = target;

            // Restore each backup so far from its chain and compare with the disk as it was.
            for (var restore = 0; restore <= backup; restore++)
            {
                var restored = dir.File("restored.raw");
                Img("convert", "-O", "raw", dir.File($"backup{restore}.qcow2"), restored);
                Assert.Equal("Images are identical.\n", Qemu.Img("compare", "-f", "raw", "-F", "raw", dir.File($"snapshot{restore}.raw"), restored).StandardOutput);
            }
        }
        // An increment holds only what changed: far less than the disk.
        Assert.True(new FileInfo(dir.File("backup5.qcow2")).Length < new FileInfo(dir.File("backup0.qcow2")).Length);
    }

    [QemuFact]
    public void Bitmap_problems_create_nothing()
    {
        using var dir = new TempDir();
        var disk = dir.File("disk.qcow2");
        Img("create", "-q", "-f", "qcow2", disk, "1M");
        var error = ToolRunner.AssertSingleLineError(ToolRunner.Run("backup", "--bitmap", "nope", disk, dir.File("b.qcow2")));
        Assert.Contains("nope", error, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("b.qcow2")));
        Assert.False(File.Exists(dir.File("b.qcow2.part")));
    }

    /// <summary>
    /// A machine crash after any single write of a <c>--clear</c> run (the backup's writes, then the clearing of the bitmap):
    /// until the backup is complete the disk is untouched; after it, the backup restores the disk and the bitmap is either
    /// complete or cleared.
    /// </summary>
    [QemuFact]
    public void A_crash_after_any_write_of_a_clearing_run_loses_no_change()
    {
        using var dir = new TempDir();
        var disk = dir.File("disk.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", disk, "256k");
        Img("bitmap", "--add", "-g", "4k", disk, "changes");
        Io(disk, "write -P 0x21 0 12k", "write -P 0x22 100k 8k", "write -z 200k 4k", "write -P 0x23 250k 6k");
        var expected = QemuRaw(disk, dir);
        var diskBytes = File.ReadAllBytes(disk);
        var emptyTarget = dir.File("empty.qcow2");
        Qcow2Image.Create(emptyTarget, 256 << 10, new Qcow2CreateOptions { ClusterSize = 4096 }).Dispose();
        var targetBytes = File.ReadAllBytes(emptyTarget);
        List<Qcow2GuestRange> dirty;
        using (var image = Qcow2Image.Open(disk))
            dirty = image.GetDirtyRanges("changes").ToList();

        var (targetWrites, clearWrites) = Run(diskBytes, targetBytes, int.MaxValue, int.MaxValue, out _, out _);
        Assert.True(targetWrites > 3 && clearWrites > 0, $"{targetWrites} backup writes, {clearWrites} clearing writes");
        for (var crashAt = 0; crashAt <= targetWrites + clearWrites; crashAt++)
        {
            Run(diskBytes, targetBytes, Math.Min(crashAt, targetWrites), Math.Max(0, crashAt - targetWrites), out var diskAfter, out var targetAfter);
            var diskFile = dir.File("crashed-disk.qcow2");
            File.WriteAllBytes(diskFile, diskAfter);
            using (var image = Qcow2Image.Open(diskFile))
            {
                var left = image.GetDirtyRanges("changes").ToList();
                if (crashAt <= targetWrites)
                    Assert.True(diskAfter.AsSpan().SequenceEqual(diskBytes), $"crash after write {crashAt}: the disk changed before the backup was complete");
                else
                    Assert.True(left.Count == 0 || left.SequenceEqual(dirty), $"crash after write {crashAt}: bitmap neither complete nor cleared");
            }
            Assert.True(Qemu.CheckJson(diskFile).ExitCode is 0 or 3, $"crash after write {crashAt}: disk not consistent");
            if (crashAt >= targetWrites)
            {
                var targetFile = dir.File("crashed-backup.qcow2");
                File.WriteAllBytes(targetFile, targetAfter);
                AssertSameBytes(expected, QemuRaw(targetFile, dir), $"backup complete at crash {crashAt}");
            }
        }
    }

    /// <summary>One clearing backup run with the target and the disk in crash-injecting streams, as <see cref="Qcow2Backup.Run"/> orders it.</summary>
    private static (int TargetWrites, int ClearWrites) Run(byte[] disk, byte[] target, int targetLimit, int clearLimit, out byte[] diskAfter, out byte[] targetAfter)
    {
        var targetStream = new CrashAfterWritesStream(target, targetLimit);
        var diskStream = new CrashAfterWritesStream(disk, clearLimit);
        using (var source = Qcow2Image.Open(new MemoryStream(disk, writable: false)))
        using (var backup = Qcow2Image.Open(targetStream, new Qcow2OpenOptions { Writable = true, LeaveOpen = true }))
            Qcow2Backup.Copy(source, "changes", backup, full: true);
        var targetWrites = targetStream.Writes;
        using (var writable = Qcow2Image.Open(diskStream, new Qcow2OpenOptions { Writable = true, LeaveOpen = true }))
            writable.ClearBitmap("changes");
        (diskAfter, targetAfter) = (diskStream.PersistedBytes, targetStream.PersistedBytes);
        return (targetWrites, diskStream.Writes);
    }

    /// <summary>Random writes, zero-writes and discards, through qemu-io or through this library (which records them in the bitmap too).</summary>
    private static void ChangeDisk(string disk, Random random, bool throughQemu)
    {
        const long Size = 16 << 20;
        if (throughQemu)
        {
            var commands = new List<string>();
            for (var i = 0; i < 12; i++)
            {
                var offset = random.NextInt64(Size / 512 - 256) * 512;
                var length = random.Next(1, 256) * 512;
                commands.Add((random.Next(4)) switch
                {
                    0 => $"write -z {offset} {length}",
                    1 => $"discard {offset / 65536 * 65536} 65536",
                    _ => $"write -P {random.Next(1, 255)} {offset} {length}",
                });
            }
            Io(disk, [.. commands]);
            return;
        }
        using var image = Qcow2Image.Open(disk, new Qcow2OpenOptions { Writable = true });
        for (var i = 0; i < 12; i++)
        {
            var offset = random.NextInt64(Size - 200_000);
            var data = new byte[random.Next(1, 200_000)];
            random.NextBytes(data);
            switch (random.Next(4))
            {
                case 0: image.WriteZeroes(offset, data.Length); break;
                case 1: image.Discard(offset / 65536 * 65536, 65536); break;
                default: image.Write(offset, data); break;
            }
        }
    }
}
