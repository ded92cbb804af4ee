using System.Buffers.Binary;
using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Snapshots;

/// <summary>The snapshot API's contract: what it records, what it refuses, and that a refusal changes nothing.</summary>
public sealed class SnapshotLibraryTests
{
    [QemuFact]
    public void Created_snapshot_records_time_disk_size_and_the_next_numeric_id()
    {
        using var dir = new TempDir();
        var path = Create(dir, "");
        var date = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero).AddTicks(1234567);
        Qemu.Img("snapshot", "-c", "theirs", path).EnsureSuccess("snapshot");
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var snapshot = image.CreateSnapshot("ours", date);
            Assert.Equal("2", snapshot.Id);
            Assert.Equal(date, snapshot.Date);
        }
        using (var image = Qcow2Image.Open(path))
        {
            var snapshot = image.Snapshots[1];
            Assert.Equal(("2", "ours", date, 1L << 20, 0L, (long?)0), (snapshot.Id, snapshot.Name, snapshot.Date, snapshot.DiskSize, snapshot.VmStateSize, snapshot.ICount));
        }
        var json = Qemu.InfoJson(path).GetProperty("snapshots")[1];
        Assert.Equal(date.ToUnixTimeSeconds(), json.GetProperty("date-sec").GetInt64());
        Assert.Equal(123456700, json.GetProperty("date-nsec").GetInt64());
    }

    [QemuFact]
    public void Refusals_leave_the_file_unchanged()
    {
        using var dir = new TempDir();
        var path = Create(dir, "refcount_bits=1");
        Qemu.Io("-f", "qcow2", "-c", "write 0 64k", path).EnsureSuccess("write");
        var before = File.ReadAllBytes(path);
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            Assert.Throws<ArgumentException>(() => image.CreateSnapshot(new string('é', 128)));
            // A 1-bit refcount cannot count a second reference; QEMU fails too (and leaks the L1 copy).
            Assert.Throws<OverflowException>(() => image.CreateSnapshot("s"));
            using var other = Qcow2Image.Open(CreateWithSnapshot(dir));
            Assert.Throws<ArgumentException>(() => image.DeleteSnapshot(other.Snapshots[0]));
            Assert.Throws<ArgumentException>(() => image.ApplySnapshot(other.Snapshots[0]));
        }
        Assert.Equal(before, File.ReadAllBytes(path));
        var readOnlyPath = CreateWithSnapshot(dir);
        using (var readOnly = Qcow2Image.Open(readOnlyPath))
        {
            Assert.Throws<InvalidOperationException>(() => readOnly.CreateSnapshot("x"));
            Assert.Throws<InvalidOperationException>(() => readOnly.DeleteSnapshot(readOnly.Snapshots[0]));
        }
        var result = ToolRunner.Run("snapshot", "-c", "s", path);
        Assert.Equal("qcow2: Could not create snapshot 's': -22 (Invalid argument)\n", result.StandardError);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    /// <summary>QEMU's limit of 65536 snapshots: qemu-img and we refuse the next one with the same message.</summary>
    [QemuFact]
    public void The_65537th_snapshot_is_refused_like_qemu_img_does()
    {
        using var dir = new TempDir();
        var path = Create(dir, "");
        byte[] table;
        using (var image = Qcow2Image.Open(path))
        {
            // Entries that all point at the active L1: enough to fill the table, not a consistent image (nothing needs it to be).
            var snapshots = Enumerable.Range(1, (int)Limits.MaxSnapshots)
                .Select(i => new Qcow2Snapshot(new SnapshotTableEntry
                {
                    L1TableOffset = image.Metadata.Header.L1TableOffset,
                    L1Size = image.Metadata.Header.L1Size,
                    Id = System.Text.Encoding.UTF8.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    Extra = new SnapshotExtraData { Size = SnapshotExtraData.KnownSize },
                })).ToList();
            table = SnapshotTableWriter.Serialize(snapshots);
        }
        var bytes = File.ReadAllBytes(path).ToList();
        var offset = (bytes.Count + 65535) / 65536 * 65536;
        bytes.AddRange(new byte[offset - bytes.Count]);
        bytes.AddRange(table);
        var image2 = bytes.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(image2.AsSpan(60), Limits.MaxSnapshots);
        BinaryPrimitives.WriteUInt64BigEndian(image2.AsSpan(64), (ulong)offset);
        File.WriteAllBytes(path, image2);
        var copy = dir.File("copy.qcow2");
        File.Copy(path, copy);

        var ours = ToolRunner.Run("snapshot", "-c", "one-too-many", path);
        var theirs = Qemu.Img("snapshot", "-c", "one-too-many", copy);
        Assert.Equal(1, ours.ExitCode);
        Assert.Equal(theirs.ExitCode, ours.ExitCode);
        Assert.Equal(theirs.StandardError.Replace("qemu-img: ", "qcow2: ", StringComparison.Ordinal), ours.StandardError);
        Assert.Equal(image2, File.ReadAllBytes(path));
    }

    /// <summary>
    /// A snapshot of another disk size whose L1 table names an unaligned L2 table: apply refuses it before the resize (the
    /// first write), so the file keeps its size and every byte.
    /// </summary>
    [QemuFact]
    public void Applying_a_damaged_snapshot_changes_nothing_not_even_the_size()
    {
        using var dir = new TempDir();
        var path = CreateWithSnapshot(dir);
        Qemu.Io("-f", "qcow2", "-c", "write -P 0x11 0 64k", path).EnsureSuccess("write");
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
            image.Resize(2 << 20);
        long l1Offset;
        using (var image = Qcow2Image.Open(path))
            l1Offset = image.Snapshots[0].L1TableOffset;
        using (var file = File.OpenWrite(path))
        {
            var entry = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(entry, 0x8000_0000_0003_0200);
            file.Position = l1Offset;
            file.Write(entry);
        }
        var before = File.ReadAllBytes(path);
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            Assert.Throws<Qcow2FormatException>(() => image.ApplySnapshot(image.Snapshots[0]));
            Assert.Equal(2 << 20, image.VirtualSize);
        }
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    /// <summary>
    /// An entry as a newer writer might leave it (8 unknown bytes of extra data, a name that is not UTF-8) and one of an old
    /// writer (16 bytes: no instruction count) survive our rewrites of the table byte for byte, with no padding after the
    /// last entry, and qemu-img reads the result.
    /// </summary>
    [QemuFact]
    public void Entries_are_written_back_byte_for_byte_whatever_their_extra_data_and_name_bytes()
    {
        using var dir = new TempDir();
        var path = Create(dir, "");
        Qemu.Img("snapshot", "-c", "s1", path).EnsureSuccess("snapshot");
        Qemu.Img("snapshot", "-c", "s2", path).EnsureSuccess("snapshot");
        var table = (long)Format.ImageFiles.ReadU64(path, 64);
        var first = Format.ImageFiles.ReadBytes(path, table, 40 + 24 + 1 + 2);
        var second = Format.ImageFiles.ReadBytes(path, table + 72, 40 + 24 + 1 + 2);
        byte[] newer = [.. first[..36], 0, 0, 0, 32, .. first[40..64], 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4, (byte)'1', 0xFF, (byte)'A'];
        byte[] older = [.. second[..36], 0, 0, 0, 16, .. second[40..56], (byte)'2', .. "s2"u8];
        byte[] crafted = [.. newer, 0, 0, 0, 0, 0, .. older];   // the second entry starts at 80, the next multiple of 8
        Format.ImageFiles.WriteBytes(path, table, crafted);

        ToolRunner.Run("snapshot", "-c", "s3", path).EnsureSuccess();
        using (var image = Qcow2Image.Open(path))
        {
            Assert.Equal(["1", "2", "3"], image.Snapshots.Select(s => s.Id));
            Assert.Equal("\uFFFDA", image.Snapshots[0].Name);
            Assert.Null(image.Snapshots[1].ICount);
            Assert.Equal(1L << 20, image.Snapshots[1].DiskSize);
        }
        Assert.Equal(crafted, Format.ImageFiles.ReadBytes(path, (long)Format.ImageFiles.ReadU64(path, 64), crafted.Length));
        ToolRunner.Run("snapshot", "-d", "3", path).EnsureSuccess();
        var rewritten = (long)Format.ImageFiles.ReadU64(path, 64);
        Assert.Equal(crafted, Format.ImageFiles.ReadBytes(path, rewritten, crafted.Length));
        Assert.Equal(0, Qemu.Img("check", "-f", "qcow2", path).ExitCode);
        var listing = Qemu.Img("snapshot", "-l", path).EnsureSuccess("snapshot -l").StandardOutput;
        Assert.Contains("s2", listing);
    }

    private static string Create(TempDir dir, string options)
    {
        var path = dir.File(Guid.NewGuid().ToString("N") + ".qcow2");
        var args = new List<string> { "create", "-q", "-f", "qcow2" };
        if (options.Length > 0)
            args.AddRange(["-o", options]);
        args.AddRange([path, "1M"]);
        Qemu.Img([.. args]).EnsureSuccess("create");
        return path;
    }

    private static string CreateWithSnapshot(TempDir dir)
    {
        var path = Create(dir, "");
        Qemu.Img("snapshot", "-c", "s", path).EnsureSuccess("snapshot");
        return path;
    }
}
