using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Check;

/// <summary>One image state to check: how to build it, what qemu-img check says about it, and which repairs to compare.</summary>
/// <param name="Name">The scenario's key.</param>
/// <param name="QemuExit">The exit code of a plain <c>qemu-img check</c> on it; asserted, so an edit that missed its target fails loudly.</param>
/// <param name="Repairs">The <c>-r</c> modes whose results ours must share with qemu-img.</param>
/// <param name="Build">Builds <c>image</c> in the folder and returns how to verify that a repaired copy still holds the guest data.</param>
public sealed record CheckScenario(string Name, int QemuExit, string[] Repairs, Func<TempDir, string, Action<string>> Build)
{
    public override string ToString() => Name;
}

/// <summary>
/// The matrix of GitHub issue 4: images made by qemu-img/qemu-io, most of them then damaged by one byte edit (spec §8.5).
/// The base image is 64 MiB with 64 KiB clusters after <c>write 0 192k</c>: 0 header, 1 reftable, 2 refblock, 3 L1, 4 L2, 5-7 data;
/// the edits find their targets through <see cref="QcowBytes"/> rather than relying on that layout.
/// </summary>
public static class CheckScenarios
{
    private static readonly string[] None = [];
    private static readonly string[] Leaks = ["leaks"];
    private static readonly string[] All = ["all"];
    private static readonly string[] Both = ["leaks", "all"];

    public static readonly IReadOnlyList<CheckScenario> List =
    [
        new("clean", 0, None, (dir, image) => Base(dir, image)),
        new("fresh-empty", 0, None, (dir, image) => { CreateImage(image, "64M"); return Pristine(dir, image); }),
        new("zero-size", 0, None, (dir, image) => { CreateImage(image, "0"); return Pristine(dir, image); }),
        new("data-file", 0, None, (dir, image) => DataFile(dir, image)),
        new("data-file-leaked-cluster", 3, Both, (dir, image) => Edit(dir, DataFile(dir, image), image, q => q.AddLeakedCluster())),
        // Guest 64k made to map guest 0's host cluster: that cluster has two references but refcount 1 (and COPIED on both).
        new("data-cluster-referenced-twice", 2, All, (dir, image) => PristineAfter(dir, image, Base(dir, image), q => ShareFirstCluster(q))),
        new("refcount-1-overflow", 2, All, (dir, image) => PristineAfter(dir, image, Base(dir, image, "refcount_bits=1"), q => ShareFirstCluster(q))),
        // The refcount block also used as an L2 table by a second L1 entry: its computed refcount is 2.
        new("refblock-also-an-l2-table", 2, All, (dir, image) => Edit(dir, BaseSized(dir, image, "1G"), image, q =>
        {
            Assert.True(q.L1Size > 1);
            Assert.Equal(0UL, q.L1Entry(1));
            q.SetL1Entry(1, q.RefcountTableEntry(0) | QcowBytes.CopiedFlag);
        })),
        new("v2-leaked-cluster", 3, Both, (dir, image) => Edit(dir, Base(dir, image, "compat=0.10"), image, q => q.AddLeakedCluster())),
        // A refcount on a cluster past the end of the file is not compared (spec §8.5).
        new("refcount-past-eof", 0, None, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetRefcount(q.FileClusters, 1))),
        // The corrupt bit alone is not an error, but a repair clears it.
        new("corrupt-bit-only", 0, Leaks, (dir, image) => Edit(dir, Base(dir, image), image, q => q.WriteU64(72, q.IncompatibleFeatures | 2))),
        new("leaked-cluster", 3, Both, (dir, image) => Edit(dir, Base(dir, image), image, q => q.AddLeakedCluster())),
        new("data-refcount-2", 2, Both, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetRefcount(q.DataCluster(0), 2))),
        new("data-refcount-0", 2, Both, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetRefcount(q.DataCluster(64 << 10), 0))),
        // Metadata clusters with wrong refcounts: the header, the L1 and L2 tables, the refcount block itself.
        new("header-refcount-0", 2, All, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetRefcount(0, 0))),
        new("l1-table-refcount-2", 3, Both, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetRefcount(q.L1Offset / q.ClusterSize, 2))),
        new("l2-table-refcount-0", 2, Both, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetRefcount(q.L2TableCluster(0), 0))),
        new("l2-table-refcount-2", 2, Both, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetRefcount(q.L2TableCluster(0), 2))),
        new("refblock-refcount-0", 2, All, (dir, image) =>
            Edit(dir, Base(dir, image), image, q => q.SetRefcount((long)q.RefcountTableEntry(0) / q.ClusterSize, 0))),
        // A second, all-zero refcount block appended and linked: nothing counts it, so it has a reference but refcount 0.
        new("reftable-entry-extra-zero-block", 2, All, (dir, image) => Edit(dir, Base(dir, image), image, q =>
        {
            var cluster = q.FileClusters;
            q.Write(cluster * q.ClusterSize, new byte[q.ClusterSize]);
            Assert.Equal(0UL, q.RefcountTableEntry(1));
            q.SetRefcountTableEntry(1, (ulong)(cluster * q.ClusterSize));
        })),
        new("l1-copied-cleared", 2, Both, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetL1Entry(0, q.L1Entry(0) & ~QcowBytes.CopiedFlag))),
        new("l2-copied-cleared", 2, Both, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetL2Entry(64 << 10, q.L2Entry(64 << 10) & ~QcowBytes.CopiedFlag))),
        // COPIED alone, no offset: an unallocated cluster, which a walk must not count as one at offset 0.
        new("l2-copied-without-offset", 0, None, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetL2Entry(1 << 20, QcowBytes.CopiedFlag))),
        new("l2-reserved-bit", 2, All, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetL2Entry(128 << 10, q.L2Entry(128 << 10) | 1UL << 56))),
        new("l1-reserved-bit", 2, All, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetL1Entry(0, q.L1Entry(0) | 1UL << 1))),
        new("l1-entry-unaligned-l2", 2, All, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetL1Entry(0, q.L1Entry(0) + 512))),
        new("l2-entry-unaligned-data", 2, All, (dir, image) => Edit(dir, Base(dir, image), image, q => q.SetL2Entry(64 << 10, q.L2Entry(64 << 10) + 512))),
        // The last data cluster, at the end of the file, made unaligned: it now spills 512 bytes past the end. QEMU counts the
        // spilled cluster and rebuilds after it; a repair that refused ("File too large") left refcount=0 reference=1.
        new("l2-entry-unaligned-past-end-of-file", 2, All, (dir, image) => Edit(dir, Base(dir, image), image, q =>
        {
            Assert.Equal(q.FileClusters - 1, q.DataCluster(128 << 10));
            q.SetL2Entry(128 << 10, q.L2Entry(128 << 10) + 512);
        })),
        new("l2-entry-unaligned-preallocated-zero", 2, All, (dir, image) =>
            Edit(dir, BaseWith(dir, image, "write -z 128k 64k"), image, q =>
            {
                var entry = q.L2Entry(128 << 10);
                Assert.Equal(1UL, entry & 1); // zeroed with its allocation kept (ZERO_ALLOC)
                q.SetL2Entry(128 << 10, entry + 512);
            })),
        new("reftable-entry-beyond-eof", 2, All, (dir, image) =>
            Edit(dir, Base(dir, image), image, q => q.SetRefcountTableEntry(1, (ulong)((q.FileClusters + 2) * q.ClusterSize)))),
        // QEMU 7.2's -r all fails on this one (spec §8.2); RepairBeyondQemuTests checks that ours succeeds. Its unaligned sibling is there too.
        new("reftable-entry-reserved-bits", 2, Leaks, (dir, image) =>
            Edit(dir, Base(dir, image), image, q => q.SetRefcountTableEntry(0, q.RefcountTableEntry(0) | 0x1))),

        new("snapshot-clean", 0, None, (dir, image) => Snapshot(dir, image)),
        new("snapshot-shared-refcount-too-low", 2, Both, (dir, image) =>
            Edit(dir, Snapshot(dir, image), image, q =>
            {
                var shared = q.DataCluster(0);
                Assert.Equal(2UL, q.Refcount(shared)); // still shared with s1
                q.SetRefcount(shared, 1);
            })),
        new("snapshot-l1-unaligned", 2, All, (dir, image) => Edit(dir, Snapshot(dir, image), image, q => q.FirstSnapshotL1Offset += 512)),
        new("snapshot-leaked-cluster", 3, Leaks, (dir, image) => Edit(dir, Snapshot(dir, image), image, q => q.AddLeakedCluster())),

        new("compressed", 0, None, (dir, image) => Compressed(dir, image)),
        new("compressed-copied-flag", 2, All, (dir, image) => Edit(dir, Compressed(dir, image), image, q =>
        {
            var entry = q.L2Entry(0);
            Assert.NotEqual(0UL, entry & QcowBytes.CompressedFlag);
            q.SetL2Entry(0, entry | QcowBytes.CopiedFlag);
        })),
        new("compressed-leaked-cluster", 3, Leaks, (dir, image) => Edit(dir, Compressed(dir, image), image, q => q.AddLeakedCluster())),

        new("extended-l2", 0, None, (dir, image) => ExtendedL2(dir, image)),
        new("extended-l2-data-refcount-0", 2, All, (dir, image) =>
            Edit(dir, ExtendedL2(dir, image), image, q => q.SetRefcount(q.DataCluster(256 << 10), 0))),
        new("extended-l2-alloc-and-zero-bitmap", 2, All, (dir, image) =>
            Edit(dir, ExtendedL2(dir, image), image, q => q.SetL2Bitmap(0, q.L2Bitmap(0) | (q.L2Bitmap(0) & 0xFFFFFFFF) << 32))),
        new("extended-l2-unallocated-with-bitmap", 2, All, (dir, image) =>
            Edit(dir, ExtendedL2(dir, image), image, q =>
            {
                Assert.Equal(0UL, q.L2Entry(1 << 20));
                q.SetL2Bitmap(1 << 20, 1);
            })),
        new("extended-l2-compressed-with-bitmap", 2, All, (dir, image) =>
            Edit(dir, ExtendedL2Compressed(dir, image), image, q =>
            {
                Assert.NotEqual(0UL, q.L2Entry(0) & QcowBytes.CompressedFlag);
                Assert.Equal(0UL, q.L2Bitmap(0));
                q.SetL2Bitmap(0, 1);
            })),
        new("extended-l2-leaked-cluster", 3, Leaks, (dir, image) => Edit(dir, ExtendedL2(dir, image), image, q => q.AddLeakedCluster())),

        new("cluster-512", 0, None, (dir, image) => Base(dir, image, "cluster_size=512")),
        new("cluster-512-leaked-cluster", 3, Both, (dir, image) => Edit(dir, Base(dir, image, "cluster_size=512"), image, q => q.AddLeakedCluster())),
        new("cluster-512-data-refcount-0", 2, All, (dir, image) =>
            Edit(dir, Base(dir, image, "cluster_size=512"), image, q => q.SetRefcount(q.DataCluster(100 << 10), 0))),

        new("refcount-1", 0, None, (dir, image) => Base(dir, image, "refcount_bits=1")),
        new("refcount-1-leaked-cluster", 3, Both, (dir, image) => Edit(dir, Base(dir, image, "refcount_bits=1"), image, q => q.AddLeakedCluster())),
        new("refcount-1-data-refcount-0", 2, Both, (dir, image) =>
            Edit(dir, Base(dir, image, "refcount_bits=1"), image, q => q.SetRefcount(q.DataCluster(64 << 10), 0))),
        new("refcount-64", 0, None, (dir, image) => Base(dir, image, "refcount_bits=64")),
        new("refcount-64-data-refcount-2", 2, Both, (dir, image) =>
            Edit(dir, Base(dir, image, "refcount_bits=64"), image, q => q.SetRefcount(q.DataCluster(0), 2))),
        new("refcount-64-data-refcount-0", 2, All, (dir, image) =>
            Edit(dir, Base(dir, image, "refcount_bits=64"), image, q => q.SetRefcount(q.DataCluster(64 << 10), 0))),

        new("lazy-refcounts-crashed", 2, Both, (dir, image) => CrashedLazyRefcounts(image)),

        new("bitmaps", 0, None, (dir, image) => Bitmaps(dir, image)),
        new("bitmaps-autoclear-cleared", 3, Leaks, (dir, image) => Edit(dir, Bitmaps(dir, image), image, q => q.AutoclearFeatures &= ~1UL)),
        new("bitmaps-dropped-by-our-writable-open", 3, Both, (dir, image) =>
            Edit(dir, Bitmaps(dir, image), image, q =>
            {
                q.AutoclearFeatures &= ~1UL;
                Qcow2Image.Open(image, new Qcow2OpenOptions { Writable = true }).Dispose();
            })),
    ];

    public static CheckScenario Get(string name) => List.Single(s => s.Name == name);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var scenario in List)
            data.Add(scenario.Name);
        return data;
    }

    public static TheoryData<string, string> RepairCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var scenario in List)
            foreach (var mode in scenario.Repairs)
                data.Add(scenario.Name, mode);
        return data;
    }

    // ---- Builders ----

    public static void CreateImage(string image, string size, params string[] options)
    {
        string[] args = ["create", "-q", "-f", "qcow2", .. options.Length == 0 ? [] : new[] { "-o", string.Join(',', options) }, image, size];
        Qemu.Img(args).EnsureSuccess("qemu-img create");
    }

    public static void QemuIo(string image, params string[] commands)
    {
        var args = new List<string>();
        foreach (var command in commands)
            args.AddRange(["-c", command]);
        args.Add(image);
        Qemu.Io([.. args]).EnsureSuccess("qemu-io " + string.Join("; ", commands));
    }

    /// <summary>A 64 MiB image with three written clusters (at 64 KiB clusters: 0 hdr, 1 reftable, 2 refblock, 3 L1, 4 L2, 5-7 data).</summary>
    public static Action<string> Base(TempDir dir, string image, params string[] options) => BaseSized(dir, image, "64M", options);

    public static Action<string> BaseSized(TempDir dir, string image, string size, params string[] options)
    {
        CreateImage(image, size, options);
        QemuIo(image, "write -P 0x11 0 192k");
        return Pristine(dir, image);
    }

    /// <summary>The base image, then more qemu-io commands before the pristine copy is taken.</summary>
    public static Action<string> BaseWith(TempDir dir, string image, params string[] commands)
    {
        CreateImage(image, "64M");
        QemuIo(image, ["write -P 0x11 0 192k", .. commands]);
        return Pristine(dir, image);
    }

    /// <summary>Writes, takes internal snapshot s1, then writes again (one COW of a shared cluster and its L2 table).</summary>
    public static Action<string> Snapshot(TempDir dir, string image)
    {
        CreateImage(image, "64M");
        QemuIo(image, "write -P 0x11 0 192k");
        Qemu.Img("snapshot", "-c", "s1", image).EnsureSuccess("qemu-img snapshot");
        QemuIo(image, "write -P 0x22 64k 64k", "write -P 0x33 1M 64k");
        return Pristine(dir, image);
    }

    public static Action<string> Compressed(TempDir dir, string image)
    {
        var source = dir.File("source.qcow2");
        CreateImage(source, "64M");
        QemuIo(source, "write -P 0x11 0 192k", "write -P 0x22 1M 64k");
        Qemu.Img("convert", "-c", "-O", "qcow2", source, image).EnsureSuccess("qemu-img convert -c");
        return Pristine(dir, image);
    }

    public static Action<string> ExtendedL2(TempDir dir, string image)
    {
        CreateImage(image, "64M", "extended_l2=on", "cluster_size=128k");
        QemuIo(image, "write -P 0x11 0 4k", "write -P 0x22 256k 128k", "write -z 512k 32k");
        return Pristine(dir, image);
    }

    public static Action<string> ExtendedL2Compressed(TempDir dir, string image)
    {
        var source = dir.File("source.qcow2");
        CreateImage(source, "64M");
        QemuIo(source, "write -P 0x11 0 192k");
        Qemu.Img("convert", "-c", "-O", "qcow2", "-o", "extended_l2=on,cluster_size=128k", source, image).EnsureSuccess("qemu-img convert -c");
        return Pristine(dir, image);
    }

    public static Action<string> Bitmaps(TempDir dir, string image)
    {
        CreateImage(image, "64M");
        Qemu.Img("bitmap", "--add", image, "b0").EnsureSuccess("qemu-img bitmap");
        Qemu.Img("bitmap", "--add", "--granularity", "128k", image, "b1").EnsureSuccess("qemu-img bitmap");
        QemuIo(image, "write -P 0x11 0 192k", "write -P 0x22 32M 64k");
        return Pristine(dir, image);
    }

    /// <summary>A lazy-refcount image whose qemu-io aborted after a write: dirty bit set, refcounts never written.</summary>
    public static Action<string> CrashedLazyRefcounts(string image)
    {
        CreateImage(image, "64M", "lazy_refcounts=on");
        // abort() kills qemu-io, so it exits non-zero by design.
        Qemu.Io("-c", "write -P 0xaa 0 1M", "-c", "abort", image);
        Assert.True(new QcowBytes(image).IsDirty, "the crashed image should have the dirty bit set");
        return repaired =>
        {
            var read = Qemu.Io("-r", "-c", "read -P 0xaa 0 1M", "-c", "read -P 0 1M 63M", repaired).EnsureSuccess("qemu-io read");
            Assert.DoesNotContain("Pattern verification failed", read.StandardOutput + read.StandardError);
        };
    }

    /// <summary>Keeps an untouched copy of the image; the returned check compares a repaired image's guest data with it.</summary>
    private static Action<string> Pristine(TempDir dir, string image)
    {
        var pristine = dir.File("pristine-" + Path.GetFileName(image));
        File.Copy(image, pristine, overwrite: true);
        return repaired =>
        {
            var compare = Qemu.Img("compare", "-f", "qcow2", "-F", "qcow2", pristine, repaired);
            Assert.True(compare.ExitCode == 0, $"qemu-img compare: {compare.StandardOutput}{compare.StandardError}");
            Assert.Contains("Images are identical.", compare.StandardOutput);
        };
    }

    /// <summary>An edit that changes what the guest sees: the pristine copy is taken after it.</summary>
    public static Action<string> PristineAfter(TempDir dir, string image, Action<string> _, Action<QcowBytes> edit)
    {
        edit(new QcowBytes(image));
        return Pristine(dir, image);
    }

    private static void ShareFirstCluster(QcowBytes q)
    {
        var first = q.L2Entry(0);
        Assert.NotEqual(first & QcowBytes.OffsetMask, q.L2Entry(64 << 10) & QcowBytes.OffsetMask);
        q.SetL2Entry(64 << 10, first);
    }

    public static Action<string> DataFile(TempDir dir, string image)
    {
        CreateImage(image, "64M", "data_file=" + dir.File(Path.GetFileNameWithoutExtension(image) + ".data"));
        QemuIo(image, "write -P 0x11 0 192k", "write -P 0x22 1M 64k");
        return Pristine(dir, image);
    }

    public static Action<string> Edit(TempDir dir, Action<string> verify, string image, Action<QcowBytes> edit)
    {
        edit(new QcowBytes(image));
        return verify;
    }
}
