using System.Buffers.Binary;
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Hostile;

/// <summary>A field of a seed image that mutations target: where it is, how wide, and what it is.</summary>
public sealed record MutableField(string Name, int Offset, int Size);

/// <summary>A tiny image made by qemu-img, and a map of every field in its metadata.</summary>
public sealed record SeedImage(string Name, byte[] Bytes, int ClusterSize, IReadOnlyList<MutableField> Fields);

/// <summary>
/// The seed matrix, made once per test run with qemu-img: v2, v3 with bitmaps, with snapshots, compressed, extended L2,
/// 512-byte clusters. All tiny (512-byte clusters, 64 KiB disks) except extended L2, whose smallest cluster is 16 KiB.
/// </summary>
public static class HostileSeeds
{
    private static readonly Lazy<IReadOnlyList<SeedImage>> seeds = new(Build);

    public static IReadOnlyList<SeedImage> All => seeds.Value;

    private static IReadOnlyList<SeedImage> Build()
    {
        using var dir = new TempDir();
        string Create(string name, string options, string size = "64k")
        {
            var path = dir.File(name + ".qcow2");
            Qemu.Img("create", "-f", "qcow2", "-o", options, path, size).EnsureSuccess("qemu-img create");
            return path;
        }
        void Io(string path, string command) => Qemu.Io("-f", "qcow2", "-c", command, path).EnsureSuccess("qemu-io " + command);

        var list = new List<(string, string)>();
        var v2 = Create("v2", "compat=0.10,cluster_size=512");
        Io(v2, "write 0 1k");
        list.Add(("v2", v2));

        var bitmaps = Create("bitmaps", "cluster_size=512");
        Qemu.Img("bitmap", "--add", bitmaps, "b0").EnsureSuccess("qemu-img bitmap");
        Qemu.Img("bitmap", "--add", "-g", "4k", bitmaps, "b1").EnsureSuccess("qemu-img bitmap");
        Io(bitmaps, "write 0 2k");
        list.Add(("bitmaps", bitmaps));

        var snapshots = Create("snapshots", "cluster_size=512");
        Io(snapshots, "write 0 1k");
        Qemu.Img("snapshot", "-c", "s0", snapshots).EnsureSuccess("qemu-img snapshot");
        Io(snapshots, "write 512 1k");
        Qemu.Img("snapshot", "-c", "s1", snapshots).EnsureSuccess("qemu-img snapshot");
        list.Add(("snapshots", snapshots));

        var compressed = Create("compressed", "cluster_size=512");
        Io(compressed, "write -c 0 512");
        Io(compressed, "write -c 1024 512");
        list.Add(("compressed", compressed));

        var extended = Create("extended-l2", "extended_l2=on,cluster_size=16k", "256k");
        Io(extended, "write 0 1k");
        Io(extended, "write 20k 1k");
        list.Add(("extended-l2", extended));

        var rc1 = Create("lazy-refcount1", "cluster_size=512,lazy_refcounts=on,refcount_bits=1");
        Io(rc1, "write 0 1k");
        list.Add(("lazy-refcount1", rc1));

        return list.Select(s => Map(s.Item1, File.ReadAllBytes(s.Item2))).ToList();
    }

    /// <summary>Walks the metadata of a valid image and lists its fields (header, extensions, tables, table entries).</summary>
    public static SeedImage Map(string name, byte[] bytes)
    {
        var fields = new List<MutableField>();
        void Add(string field, long offset, int size)
        {
            if (offset >= 0 && offset + size <= bytes.Length)
                fields.Add(new MutableField(field, (int)offset, size));
        }
        ulong U64(long offset) => offset + 8 <= bytes.Length ? BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan((int)offset)) : 0;
        uint U32(long offset) => offset + 4 <= bytes.Length ? BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan((int)offset)) : 0;
        ushort U16(long offset) => BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan((int)offset));

        var version = U32(4);
        var clusterBits = (int)U32(20);
        var clusterSize = 1 << clusterBits;
        foreach (var (field, offset, size) in new (string, int, int)[]
                 {
                     ("magic", 0, 4), ("version", 4, 4), ("backing_file_offset", 8, 8), ("backing_file_size", 16, 4), ("cluster_bits", 20, 4),
                     ("size", 24, 8), ("crypt_method", 32, 4), ("l1_size", 36, 4), ("l1_table_offset", 40, 8), ("refcount_table_offset", 48, 8),
                     ("refcount_table_clusters", 56, 4), ("nb_snapshots", 60, 4), ("snapshots_offset", 64, 8),
                     ("incompatible_features", 72, 8), ("compatible_features", 80, 8), ("autoclear_features", 88, 8),
                     ("refcount_order", 96, 4), ("header_length", 100, 4), ("compression_type", 104, 1),
                 })
        {
            if (version >= 3 || offset < 72)
                Add(field, offset, size);
        }

        // Header extensions: magic, length, and every 4- and 8-byte word of the data.
        long bitmapDirectory = 0, bitmapDirectorySize = 0;
        var at = version >= 3 ? (long)U32(100) : 72;
        for (var n = 0; at + 8 <= clusterSize && n < 32; n++)
        {
            var magic = U32(at);
            var length = U32(at + 4);
            Add($"ext{n}:{magic:x8}.magic", at, 4);
            if (magic == 0)
                break;
            Add($"ext{n}:{magic:x8}.length", at + 4, 4);
            // The feature name table is 48-byte name entries: its first entry stands for the rest.
            for (var word = 0; word + 4 <= (magic == 0x6803f857 ? Math.Min(length, 48) : length); word += 4)
            {
                Add($"ext{n}:{magic:x8}.data+{word}/4", at + 8 + word, 4);
                if (word + 8 <= length)
                    Add($"ext{n}:{magic:x8}.data+{word}/8", at + 8 + word, 8);
            }
            if (magic == 0x23852875 && length >= 24)
            {
                bitmapDirectorySize = (long)U64(at + 8 + 8);
                bitmapDirectory = (long)U64(at + 8 + 16);
            }
            at += 8 + ((length + 7) & ~7L);
        }

        void Table(string table, long offset, long entries, int entrySize = 8)
        {
            for (long i = 0; i < entries; i++)
                Add($"{table}[{i}]", offset + i * entrySize, entrySize);
        }

        // L1 and the L2 tables it points at.
        var extendedL2 = version >= 3 && (U64(72) & 16) != 0;
        var l2Entries = clusterSize / (extendedL2 ? 16 : 8);
        void L1(string prefix, long l1Offset, long l1Size)
        {
            Table(prefix + "l1", l1Offset, l1Size);
            for (long i = 0; i < l1Size; i++)
            {
                var l2 = (long)(U64(l1Offset + i * 8) & 0x00FFFFFFFFFFFE00);
                if (l2 != 0)
                    Table($"{prefix}l2[{i}]", l2, l2Entries * (extendedL2 ? 2 : 1));
            }
        }
        L1("", (long)U64(40), U32(36));

        // Refcount table and blocks (whole 8-byte words of the blocks, whatever the refcount width).
        var refcountTable = (long)U64(48);
        var refcountTableEntries = (long)U32(56) * clusterSize / 8;
        for (long i = 0; i < refcountTableEntries; i++)
        {
            var block = (long)(U64(refcountTable + i * 8) & 0xFFFFFFFFFFFFFE00);
            if (block == 0)
                continue;
            Add($"reftable[{i}]", refcountTable + i * 8, 8);
            Table($"refblock[{i}]", block, Math.Min(clusterSize / 8, 64));
        }
        Add("reftable[last]", refcountTable + (refcountTableEntries - 1) * 8, 8);

        // Snapshot table: every fixed field of every entry, the extra data words, and each snapshot's L1 table.
        var snapshot = (long)U64(64);
        for (var s = 0; s < U32(60) && snapshot + 40 <= bytes.Length; s++)
        {
            foreach (var (field, offset, size) in new (string, int, int)[]
                     {
                         ("l1_table_offset", 0, 8), ("l1_size", 8, 4), ("id_str_size", 12, 2), ("name_size", 14, 2), ("date_sec", 16, 4),
                         ("date_nsec", 20, 4), ("vm_clock_nsec", 24, 8), ("vm_state_size", 32, 4), ("extra_data_size", 36, 4),
                     })
                Add($"snapshot[{s}].{field}", snapshot + offset, size);
            var extra = U32(snapshot + 36);
            for (var word = 0; word + 8 <= extra; word += 8)
                Add($"snapshot[{s}].extra+{word}", snapshot + 40 + word, 8);
            L1($"snapshot[{s}].", (long)U64(snapshot), U32(snapshot + 8));
            snapshot += 40 + extra + U16(snapshot + 12) + U16(snapshot + 14);
            snapshot = (snapshot + 7) & ~7L;
        }

        // Bitmap directory entries and their bitmap tables.
        var entry = bitmapDirectory;
        while (bitmapDirectory != 0 && entry + 24 <= bitmapDirectory + bitmapDirectorySize && entry + 24 <= bytes.Length)
        {
            var b = $"bitmap@{entry - bitmapDirectory}";
            foreach (var (field, offset, size) in new (string, int, int)[]
                     {
                         ("bitmap_table_offset", 0, 8), ("bitmap_table_size", 8, 4), ("flags", 12, 4), ("type", 16, 1),
                         ("granularity_bits", 17, 1), ("name_size", 18, 2), ("extra_data_size", 20, 4),
                     })
                Add($"{b}.{field}", entry + offset, size);
            Table($"{b}.table", (long)U64(entry), U32(entry + 8));
            entry += 24 + U32(entry + 20) + U16(entry + 18);
            entry = (entry + 7) & ~7L;
        }

        return new SeedImage(name, bytes, clusterSize, fields);
    }
}
