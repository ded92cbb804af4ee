using System.Security.Cryptography;
using System.Text.Json;
using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Resize;

public sealed class ResizeInteropTests
{
    private const long MiB = 1024 * 1024;

    [QemuFact]
    public void Growing_64MiB_to_1TiB_reallocates_the_L1_and_keeps_the_data()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "64M");
        ResizeAssert.Write(path, 0x5a, 0, MiB);

        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var oldL1 = image.Metadata.Header.L1TableOffset;
            Assert.Equal(1u, image.Metadata.Header.L1Size);
            image.Resize(1L << 40);
            Assert.Equal(2048u, image.Metadata.Header.L1Size);
            Assert.NotEqual(oldL1, image.Metadata.Header.L1TableOffset);
            Assert.Equal(1L << 40, image.VirtualSize);
        }

        ResizeAssert.CleanWithSize(path, 1L << 40);
        ResizeAssert.Reads(path, 0x5a, 0, MiB);
        ResizeAssert.Reads(path, 0, MiB, MiB);
        ResizeAssert.Reads(path, 0, (1L << 40) - MiB, MiB);
        // QEMU can write into the new area (the L1 really has 2048 usable entries).
        ResizeAssert.Write(path, 0x33, (1L << 40) - MiB, MiB);
        ResizeAssert.Reads(path, 0x33, (1L << 40) - MiB, MiB);
        ResizeAssert.CleanWithSize(path, 1L << 40);
    }

    /// <summary>
    /// 512-byte clusters: 2 GiB needs a 512 KiB L1 (1024 clusters). With 64-bit refcounts one refcount table cluster covers only
    /// 2 MiB of file, so 4 GiB (a 1 MiB L1) also has to grow the refcount table.
    /// </summary>
    [QemuTheory]
    [InlineData(16, "2G", 2L << 30, false)]
    [InlineData(64, "4G", 4L << 30, true)]
    public void Growing_an_image_with_512_byte_clusters_grows_the_L1_and_the_refcount_table(int refcountBits, string size, long expected, bool tableGrows)
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "1M", $"cluster_size=512,refcount_bits={refcountBits}");
        ResizeAssert.Write(path, 0x5a, 0, MiB);
        ulong tableBefore;
        using (var image = Qcow2Image.Open(path))
            tableBefore = image.Metadata.Header.RefcountTableOffset;

        var result = ToolRunner.Run("resize", path, size).EnsureSuccess();
        Assert.Equal("Image resized.\n", result.StandardOutput);

        using (var image = Qcow2Image.Open(path))
        {
            Assert.Equal(expected, image.VirtualSize);
            Assert.Equal((uint)(expected / (512 * 64)), image.Metadata.Header.L1Size);
            Assert.Equal(tableGrows, tableBefore != image.Metadata.Header.RefcountTableOffset);
        }
        ResizeAssert.CleanWithSize(path, expected);
        ResizeAssert.Reads(path, 0x5a, 0, MiB);
        ResizeAssert.Reads(path, 0, expected - MiB, MiB);
    }

    [QemuFact]
    public void Shrinking_with_data_only_below_the_new_end_keeps_it_and_a_later_grow_reads_zeros()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "64M");
        ResizeAssert.Write(path, 0x5a, 0, MiB);

        Assert.Equal("Image resized.\n", ToolRunner.Run("resize", "--shrink", path, "32M").EnsureSuccess().StandardOutput);
        ResizeAssert.CleanWithSize(path, 32 * MiB);
        ResizeAssert.Reads(path, 0x5a, 0, MiB);
        using (var image = Qcow2Image.Open(path))
            Assert.Equal(1u, image.Metadata.Header.L1Size); // kept, as QEMU keeps it

        ToolRunner.Run("resize", path, "+32M").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 64 * MiB);
        ResizeAssert.Reads(path, 0x5a, 0, MiB);
        ResizeAssert.Reads(path, 0, 32 * MiB, 32 * MiB);
    }

    [QemuFact]
    public void Shrinking_frees_the_clusters_past_the_new_end_and_trims_the_file()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "1T");
        ResizeAssert.Write(path, 0x5a, 0, MiB);
        ResizeAssert.Write(path, 0x33, 1010 * MiB, 2 * MiB);     // same L2 table as the new end (1000 MiB): entries cleared
        ResizeAssert.Write(path, 0x44, 600L << 30, 2 * MiB);     // its own L2 table: L1 entry cleared, table freed
        var before = new FileInfo(path).Length;

        // A relative size with a minus sign needs no "--", as in qemu-img: 1 TiB - 1047576 MiB = 1000 MiB.
        ToolRunner.Run("resize", "--shrink", path, "-1047576M").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 1000 * MiB);             // no leaks: everything past the end was freed
        Assert.True(new FileInfo(path).Length <= before - 4 * MiB, $"file not trimmed: {before} -> {new FileInfo(path).Length}");
        ResizeAssert.Reads(path, 0x5a, 0, MiB);
        using (var image = Qcow2Image.Open(path))
            Assert.Equal(2048u, image.Metadata.Header.L1Size);     // kept, as QEMU keeps it

        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
            image.Resize(1L << 40);
        ResizeAssert.CleanWithSize(path, 1L << 40);
        ResizeAssert.Reads(path, 0x5a, 0, MiB);
        ResizeAssert.Reads(path, 0, 1010 * MiB, 2 * MiB);
        ResizeAssert.Reads(path, 0, 600L << 30, 2 * MiB);
    }

    /// <summary>
    /// 512-byte clusters: refcount blocks (128 KiB of file each) are interleaved with the data. After a shrink the ones past the
    /// new end describe only themselves; they are dropped (as QEMU does) so the file can be cut to the same length as QEMU's.
    /// </summary>
    [QemuFact]
    public void Shrinking_drops_empty_refcount_blocks_and_trims_the_file_like_qemu()
    {
        using var dir = new TempDir();
        var ours = dir.File("ours.qcow2");
        var theirs = dir.File("theirs.qcow2");
        ResizeAssert.Create(ours, "4M", "cluster_size=512");
        ResizeAssert.Write(ours, 0x5a, 0, 4 * MiB);
        File.Copy(ours, theirs);
        var before = new FileInfo(ours).Length;

        ToolRunner.Run("resize", "--shrink", ours, "1M").EnsureSuccess();
        Qemu.Img("resize", "-q", "--shrink", "-f", "qcow2", theirs, "1M").EnsureSuccess("qemu-img resize");

        ResizeAssert.CleanWithSize(ours, MiB);
        ResizeAssert.Reads(ours, 0x5a, 0, MiB);
        Assert.True(new FileInfo(ours).Length < before / 2, $"{before} -> {new FileInfo(ours).Length}");
        Assert.Equal(new FileInfo(theirs).Length, new FileInfo(ours).Length);
    }

    [QemuFact]
    public void Shrinking_past_data_in_the_same_L2_table_discards_it()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "64M");
        ResizeAssert.Write(path, 0x5a, 0, MiB);
        ResizeAssert.Write(path, 0x33, 40 * MiB, 2 * MiB);

        ToolRunner.Run("resize", "--shrink", path, "32M").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 32 * MiB);
        ToolRunner.Run("resize", path, "64M").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 64 * MiB);
        ResizeAssert.Reads(path, 0x5a, 0, MiB);
        ResizeAssert.Reads(path, 0, 40 * MiB, 2 * MiB);
    }

    /// <summary>
    /// A shrink to a size inside a cluster leaves old bytes in that cluster's tail. QEMU 7.2 leaves them there and shows them
    /// again after a grow (verified: 'Pattern verification failed' after qemu-img resize --shrink + resize). We zero the tail,
    /// on our shrink and on our grow, so the grown area reads zeros whoever shrank the image.
    /// </summary>
    [QemuTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]   // our shrink zeroed the tail, so even QEMU's grow reads zeros
    public void The_tail_of_a_partially_covered_last_cluster_reads_zeros_after_growing_again(bool qemuShrinks, bool qemuGrows)
    {
        const long newEnd = 512 * 1024 + 512;
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "1M");
        ResizeAssert.Write(path, 0x5a, 0, MiB);

        if (qemuShrinks)
            Qemu.Img("resize", "-q", "--shrink", "-f", "qcow2", path, newEnd.ToString()).EnsureSuccess("qemu-img resize");
        else
            ToolRunner.Run("resize", "--shrink", path, newEnd.ToString()).EnsureSuccess();
        ResizeAssert.CleanWithSize(path, newEnd);
        if (qemuGrows)
            Qemu.Img("resize", "-q", "-f", "qcow2", path, "1M").EnsureSuccess("qemu-img resize");
        else
            ToolRunner.Run("resize", path, "1M").EnsureSuccess();

        ResizeAssert.CleanWithSize(path, MiB);
        ResizeAssert.Reads(path, 0x5a, 0, newEnd);
        ResizeAssert.Reads(path, 0, newEnd, MiB - newEnd);
    }

    [QemuFact]
    public void Metadata_preallocation_allocates_the_new_area_like_qemu_and_reads_zeros()
    {
        using var dir = new TempDir();
        var ours = dir.File("ours.qcow2");
        var theirs = dir.File("theirs.qcow2");
        ResizeAssert.Create(ours, "1M");
        ResizeAssert.Write(ours, 0x5a, 0, MiB);
        File.Copy(ours, theirs);

        ToolRunner.Run("resize", "--preallocation=metadata", ours, "3M").EnsureSuccess();
        Qemu.Img("resize", "-q", "--preallocation=metadata", "-f", "qcow2", theirs, "3M").EnsureSuccess("qemu-img resize");

        ResizeAssert.CleanWithSize(ours, 3 * MiB);
        ResizeAssert.Reads(ours, 0x5a, 0, MiB);
        ResizeAssert.Reads(ours, 0, MiB, 2 * MiB);
        Assert.Equal(MapShape(theirs), MapShape(ours));
        Assert.Equal(new FileInfo(theirs).Length, new FileInfo(ours).Length);
    }

    /// <summary>Preallocated clusters that reuse a hole in the file (freed by a shrink) must be zeroed, not keep old data.</summary>
    [QemuFact]
    public void Metadata_preallocation_into_reused_holes_reads_zeros()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "4M");
        ResizeAssert.Write(path, 0x5a, 2 * MiB, 2 * MiB); // low host offsets
        ResizeAssert.Write(path, 0x33, 0, MiB);           // after them in the file
        ToolRunner.Run("resize", "--shrink", path, "1M").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, MiB);

        ToolRunner.Run("resize", "--preallocation=metadata", path, "4M").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 4 * MiB);
        ResizeAssert.Reads(path, 0x33, 0, MiB);
        ResizeAssert.Reads(path, 0, MiB, 3 * MiB);
        var map = Qemu.Img("map", "--output=json", "-f", "qcow2", path).EnsureSuccess("map").StandardOutput;
        Assert.DoesNotContain("\"data\": false", map, StringComparison.Ordinal);
    }

    [QemuFact]
    public void A_shrink_without_the_shrink_option_is_refused_and_changes_nothing()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "64M");
        ResizeAssert.Write(path, 0x5a, 0, MiB);
        var hash = SHA256.HashData(File.ReadAllBytes(path));

        var line = ToolRunner.AssertSingleLineError(ToolRunner.Run("resize", path, "32M"));
        Assert.Equal("qcow2: Use the --shrink option to perform a shrink operation.", line);
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var e = Assert.Throws<ArgumentException>(() => image.Resize(32 * MiB));
            Assert.Equal("options.AllowShrink", e.ParamName);
            Assert.Contains("Qcow2ResizeOptions.AllowShrink", e.Message);
        }
        Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(path)));
        ResizeAssert.CleanWithSize(path, 64 * MiB);
    }

    /// <summary>Our one-line errors carry qemu-img's first line, for the same command line.</summary>
    [QemuTheory]
    [InlineData("67109864")]                          // not a multiple of 512 (grow)
    [InlineData("--shrink", "1000")]                   // not a multiple of 512 (shrink)
    [InlineData("32M")]                               // shrink without --shrink
    [InlineData("--shrink", "--preallocation=metadata", "32M")]
    [InlineData("--preallocation=foo", "+1M")]
    [InlineData("0")]
    [InlineData("-64M")]
    [InlineData("--shrink", "-1G")]
    [InlineData("+1x")]
    [InlineData("3P")]                                // more than 4 Mi L1 entries with 64 KiB clusters
    public void Refusals_match_qemu_img_and_leave_the_image_alone(params string[] args)
    {
        using var dir = new TempDir();
        var ours = dir.File("ours.qcow2");
        var theirs = dir.File("theirs.qcow2");
        ResizeAssert.Create(ours, "64M");
        File.Copy(ours, theirs);
        var hash = SHA256.HashData(File.ReadAllBytes(ours));

        var qemu = Qemu.Img(["resize", "-f", "qcow2", .. args[..^1], theirs, args[^1]]);
        Assert.Equal(1, qemu.ExitCode);
        var qemuFirstLine = qemu.StandardError.Split('\n')[0];
        Assert.StartsWith("qemu-img: ", qemuFirstLine);

        var line = ToolRunner.AssertSingleLineError(ToolRunner.Run(["resize", .. args[..^1], ours, args[^1]]));
        Assert.StartsWith("qcow2: " + qemuFirstLine["qemu-img: ".Length..], line);
        Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(ours)));
    }

    [QemuFact]
    public void A_v2_image_with_snapshots_is_refused_as_qemu_does()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "64M", "compat=0.10");
        Qemu.Img("snapshot", "-c", "s1", path).EnsureSuccess("snapshot");
        var qemu = Qemu.Img("resize", "-f", "qcow2", path, "128M");
        Assert.Contains("Can't resize a v2 image which has snapshots", qemu.StandardError, StringComparison.Ordinal);

        using var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true });
        var e = Assert.Throws<Qcow2FormatException>(() => image.Resize(128 * MiB));
        Assert.Equal("Can't resize a v2 image which has snapshots", e.Message);
    }

    [QemuFact]
    public void A_v3_image_with_a_snapshot_grows_and_shrinks_and_the_snapshot_keeps_its_data()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "1T");
        ResizeAssert.Write(path, 0x5a, 0, MiB);
        ResizeAssert.Write(path, 0x44, 600L << 30, MiB);
        Qemu.Img("snapshot", "-c", "s1", path).EnsureSuccess("snapshot");

        // The L2 table at 600 GiB is shared with the snapshot: dropping it must drop only the active references.
        ToolRunner.Run("resize", "--shrink", path, "1G").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 1L << 30);
        ToolRunner.Run("resize", path, "2T").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 2L << 40);
        ResizeAssert.Reads(path, 0x5a, 0, MiB);
        ResizeAssert.Reads(path, 0, 600L << 30, MiB);

        Qemu.Img("snapshot", "-a", "s1", path).EnsureSuccess("snapshot -a");
        ResizeAssert.Reads(path, 0x44, 600L << 30, MiB);
        Assert.Equal(0, Qemu.CheckJson(path).ExitCode);
    }

    /// <summary>
    /// The L2 table holding the new end is shared with a snapshot: clearing its tail in place would change the snapshot, so it
    /// is copied (copy-on-write) and only the active references are dropped. Growing with preallocation copies it as well.
    /// </summary>
    [QemuFact]
    public void Shrinking_through_an_L2_table_shared_with_a_snapshot_copies_it()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "1G");
        ResizeAssert.Write(path, 0x5a, 0, MiB);
        ResizeAssert.Write(path, 0x44, 400 * MiB, MiB);
        Qemu.Img("snapshot", "-c", "s1", path).EnsureSuccess("snapshot");

        ToolRunner.Run("resize", "--shrink", path, "256M").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 256 * MiB);
        ResizeAssert.Reads(path, 0x5a, 0, MiB);
        ToolRunner.Run("resize", "--preallocation=metadata", path, "300M").EnsureSuccess();
        ToolRunner.Run("resize", path, "1G").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 1L << 30);
        ResizeAssert.Reads(path, 0x5a, 0, MiB);
        ResizeAssert.Reads(path, 0, 256 * MiB, 768 * MiB);

        Qemu.Img("snapshot", "-a", "s1", path).EnsureSuccess("snapshot -a");
        ResizeAssert.Reads(path, 0x5a, 0, MiB);
        ResizeAssert.Reads(path, 0x44, 400 * MiB, MiB);
        ResizeAssert.CleanWithSize(path, 1L << 30);
    }

    /// <summary>Compressed clusters share host clusters: each one past the end drops one reference from every host cluster it touches.</summary>
    [QemuFact]
    public void Shrinking_a_compressed_image_frees_exactly_the_compressed_clusters_past_the_end()
    {
        using var dir = new TempDir();
        var raw = dir.File("a.raw");
        var path = dir.File("a.qcow2");
        var data = new byte[8 * MiB];
        for (var i = 0; i < data.Length; i++)
            data[i] = (byte)(i / 4096 % 7 == 0 ? 0x5a : i % 251);
        File.WriteAllBytes(raw, data);
        Qemu.Img("convert", "-c", "-f", "raw", "-O", "qcow2", raw, path).EnsureSuccess("convert -c");
        Assert.True(Qemu.CheckJson(path).Json!.Value.GetProperty("compressed-clusters").GetInt64() > 100);

        ToolRunner.Run("resize", "--shrink", path, "3M").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 3 * MiB);
        File.WriteAllBytes(raw, data[..(int)(3 * MiB)]);
        Assert.Equal(0, Qemu.Img("compare", "-f", "raw", "-F", "qcow2", raw, path).ExitCode);

        ToolRunner.Run("resize", path, "8M").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 8 * MiB);
        ResizeAssert.Reads(path, 0, 3 * MiB, 5 * MiB);
    }

    /// <summary>
    /// The partly covered last cluster is compressed, or shared with a snapshot: it cannot be zeroed in place, so its guest
    /// bytes are copied to a new cluster with a zeroed tail. The snapshot keeps the old cluster.
    /// </summary>
    [QemuTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_compressed_or_snapshot_shared_last_cluster_gets_a_zeroed_copy(bool compressed)
    {
        const long newEnd = 2 * MiB + 4096 + 512;
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        if (compressed)
        {
            var raw = dir.File("a.raw");
            File.WriteAllBytes(raw, Enumerable.Repeat((byte)0x5a, (int)(4 * MiB)).ToArray());
            Qemu.Img("convert", "-c", "-f", "raw", "-O", "qcow2", raw, path).EnsureSuccess("convert -c");
        }
        else
        {
            ResizeAssert.Create(path, "4M");
            ResizeAssert.Write(path, 0x5a, 0, 4 * MiB);
            Qemu.Img("snapshot", "-c", "s1", path).EnsureSuccess("snapshot");
        }

        ToolRunner.Run("resize", "--shrink", path, newEnd.ToString()).EnsureSuccess();
        ResizeAssert.CleanWithSize(path, newEnd);
        ToolRunner.Run("resize", path, "4M").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 4 * MiB);
        ResizeAssert.Reads(path, 0x5a, 0, newEnd);
        ResizeAssert.Reads(path, 0, newEnd, 4 * MiB - newEnd);
        if (!compressed)
        {
            Qemu.Img("snapshot", "-a", "s1", path).EnsureSuccess("snapshot -a");
            ResizeAssert.Reads(path, 0x5a, 0, 4 * MiB);
            ResizeAssert.CleanWithSize(path, 4 * MiB);
        }
    }

    [QemuFact]
    public void Extended_L2_images_shrink_grow_and_preallocate()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "64M", "extended_l2=on,cluster_size=65536");
        ResizeAssert.Write(path, 0x5a, 0, MiB);
        ResizeAssert.Write(path, 0x33, 40 * MiB, 4096);   // one subcluster of a cluster

        ToolRunner.Run("resize", "--shrink", path, "32M").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 32 * MiB);
        ToolRunner.Run("resize", "--preallocation=metadata", path, "48M").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 48 * MiB);
        ToolRunner.Run("resize", path, "1T").EnsureSuccess();
        ResizeAssert.CleanWithSize(path, 1L << 40);
        ResizeAssert.Reads(path, 0x5a, 0, MiB);
        ResizeAssert.Reads(path, 0, 32 * MiB, 16 * MiB);
        ResizeAssert.Reads(path, 0, 40 * MiB, 4096);
        ResizeAssert.Write(path, 0x66, 33 * MiB, 4096);    // QEMU writes into a preallocated extended-L2 cluster
        ResizeAssert.Reads(path, 0x66, 33 * MiB, 4096);
        ResizeAssert.CleanWithSize(path, 1L << 40);
    }

    [QemuFact]
    public void A_read_only_image_cannot_be_resized()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "64M");
        using var image = Qcow2Image.Open(path);
        Assert.Throws<InvalidOperationException>(() => image.Resize(128 * MiB));
    }

    [QemuFact]
    public void External_data_files_are_refused_clearly()
    {
        using var dir = new TempDir();
        var withData = dir.File("data.qcow2");
        ResizeAssert.Create(withData, "64M", $"data_file={dir.File("data.raw")}");
        using var image = Qcow2Image.Open(withData, new Qcow2OpenOptions { Writable = true });
        Assert.Contains("external data file", Assert.Throws<Qcow2FormatException>(() => image.Resize(128 * MiB)).Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A backing file longer than the overlay must not show through in the grown area. QEMU zero-writes the new area in that
    /// case; we never open the backing file, so a grow always marks the new area as zero clusters (v3).
    /// </summary>
    [QemuFact]
    public void Growing_an_overlay_hides_a_longer_backing_file_like_qemu()
    {
        using var dir = new TempDir();
        var backing = dir.File("base.qcow2");
        ResizeAssert.Create(backing, "128M");
        ResizeAssert.Write(backing, 0x77, 0, 128 * MiB);
        foreach (var name in new[] { "ours.qcow2", "theirs.qcow2" })
            Qemu.Img("create", "-q", "-f", "qcow2", "-b", backing, "-F", "qcow2", dir.File(name), "64M").EnsureSuccess("create overlay");
        ResizeAssert.Write(dir.File("ours.qcow2"), 0x5a, 0, MiB);
        ResizeAssert.Write(dir.File("theirs.qcow2"), 0x5a, 0, MiB);

        ToolRunner.Run("resize", dir.File("ours.qcow2"), "1G").EnsureSuccess();
        Qemu.Img("resize", "-q", "-f", "qcow2", dir.File("theirs.qcow2"), "1G").EnsureSuccess("qemu-img resize");
        foreach (var path in new[] { dir.File("ours.qcow2"), dir.File("theirs.qcow2") })
        {
            ResizeAssert.CleanWithSize(path, 1L << 30);
            ResizeAssert.Reads(path, 0x5a, 0, MiB);
            ResizeAssert.Reads(path, 0x77, MiB, 63 * MiB);   // still the backing file's below the old end
            ResizeAssert.Reads(path, 0, 64 * MiB, 64 * MiB); // not the backing file's past it
        }
        Assert.Equal(MapShape(dir.File("theirs.qcow2")), MapShape(dir.File("ours.qcow2")));
    }

    [QemuFact]
    public void Growing_an_overlay_is_refused_where_the_backing_file_could_show_through()
    {
        using var dir = new TempDir();
        var backing = dir.File("base.qcow2");
        ResizeAssert.Create(backing, "128M");
        var v2 = dir.File("v2.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", "compat=0.10", "-b", backing, "-F", "qcow2", v2, "64M").EnsureSuccess("create v2 overlay");
        var partial = dir.File("partial.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-b", backing, "-F", "qcow2", partial, (64 * MiB + 512).ToString()).EnsureSuccess("create overlay");

        foreach (var path in new[] { v2, partial })
        {
            var hash = SHA256.HashData(File.ReadAllBytes(path));
            using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
                Assert.Contains("backing file", Assert.Throws<Qcow2FormatException>(() => image.Resize(128 * MiB)).Message, StringComparison.Ordinal);
            Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(path)));
        }
        // Shrinking needs no such care.
        using (var image = Qcow2Image.Open(v2, new Qcow2OpenOptions { Writable = true }))
            image.Resize(32 * MiB, new Qcow2ResizeOptions { AllowShrink = true });
        ResizeAssert.CleanWithSize(v2, 32 * MiB);
    }

    /// <summary>Each extent of `qemu-img map` without its host offset.</summary>
    private static string MapShape(string path)
    {
        var json = JsonDocument.Parse(Qemu.Img("map", "--output=json", "-f", "qcow2", path).EnsureSuccess("map").StandardOutput).RootElement;
        return string.Join("\n", json.EnumerateArray().Select(e =>
            $"{e.GetProperty("start")} {e.GetProperty("length")} present={e.GetProperty("present")} zero={e.GetProperty("zero")} data={e.GetProperty("data")}"));
    }
}
