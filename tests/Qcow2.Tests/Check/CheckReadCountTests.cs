using System.Buffers.Binary;
using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.Format.ImageFiles;

namespace Qcow2.Tests.Check;

/// <summary>
/// A check costs about one read of the metadata: each active L2 table is read once when its COPIED flags agree with the
/// refcounts (the COPIED pass uses what the reference walk noted), and the file length is asked for a fixed number of times,
/// not once per refcount block. A flag that disagrees sends the COPIED pass back to the tables, with the same findings.
/// </summary>
public sealed class CheckReadCountTests
{
    [QemuFact]
    public void A_consistent_image_has_each_l2_table_read_once_and_its_length_asked_a_few_times()
    {
        using var dir = new TempDir();
        // 4 KiB clusters: 128 L2 tables and 32 refcount blocks, each table next to the data it maps.
        var path = QemuCreate(dir, "a.qcow2", "256M", "cluster_size=4096", "preallocation=metadata");
        var bytes = File.ReadAllBytes(path);
        var storage = new CountingStorage(new StreamStorage(new MemoryStream(bytes), writable: false, leaveOpen: false));
        using var image = Qcow2Image.Open(storage, writable: false, forCheck: true, fileName: null);
        storage.Reads.Clear();
        var lengthCallsBefore = storage.LengthCalls;

        var result = image.Check();

        Assert.Equal(0, result.Corruptions);
        Assert.Equal(65536, result.AllocatedClusters);
        var l2Tables = L2Tables(bytes);
        Assert.Equal(128, l2Tables.Count);
        Assert.All(l2Tables, offset => Assert.Equal(1, storage.TimesRead(offset)));
        Assert.InRange(storage.LengthCalls - lengthCallsBefore, 1, 4);
    }

    [QemuFact]
    public void A_wrong_copied_flag_sends_the_copied_pass_back_to_the_tables()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "256M", "cluster_size=4096", "preallocation=metadata");
        var bytes = File.ReadAllBytes(path);
        var l2Tables = L2Tables(bytes);
        // Clear COPIED on the first entry of the second table: its cluster has refcount 1.
        var entry = BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan((int)l2Tables[1]));
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan((int)l2Tables[1]), entry & ~(1UL << 63));
        var storage = new CountingStorage(new StreamStorage(new MemoryStream(bytes), writable: false, leaveOpen: false));
        using var image = Qcow2Image.Open(storage, writable: false, forCheck: true, fileName: null);
        storage.Reads.Clear();

        var result = image.Check();

        var finding = Assert.Single(result.Findings);
        Assert.Equal(Qcow2CheckFindingKind.CopiedFlag, finding.Kind);
        Assert.Equal($"ERROR OFLAG_COPIED data cluster: l2_entry={entry & ~(1UL << 63):x} refcount=1", finding.Message);
        Assert.All(l2Tables, offset => Assert.Equal(2, storage.TimesRead(offset)));
    }

    private static List<long> L2Tables(byte[] image)
    {
        var l1Size = (int)BinaryPrimitives.ReadUInt32BigEndian(image.AsSpan(36));
        var l1Offset = (int)BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan(40));
        return Enumerable.Range(0, l1Size)
            .Select(i => (long)(BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan(l1Offset + i * 8)) & 0x00FFFFFFFFFFFE00))
            .Where(offset => offset != 0).ToList();
    }
}
