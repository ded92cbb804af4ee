using System.Buffers.Binary;
using System.Text.Json;
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Format;

/// <summary>Makes images with qemu-img and edits their bytes, for the format tests.</summary>
internal static class ImageFiles
{
    public static string QemuCreate(TempDir dir, string name, string size = "64M", params string[] options)
    {
        var path = dir.File(name);
        var args = new List<string> { "create", "-q", "-f", "qcow2" };
        foreach (var option in options)
        {
            args.Add("-o");
            args.Add(option);
        }
        args.Add(path);
        args.Add(size);
        Qemu.Img([.. args]).EnsureSuccess("qemu-img create");
        return path;
    }

    public static void AddBitmap(string path, string name, params string[] extra) =>
        Qemu.Img(["bitmap", "--add", .. extra, "-f", "qcow2", path, name]).EnsureSuccess("qemu-img bitmap --add");

    public static void WriteU32(string path, long offset, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        WriteBytes(path, offset, bytes);
    }

    public static void WriteU64(string path, long offset, ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        WriteBytes(path, offset, bytes);
    }

    public static void WriteBytes(string path, long offset, ReadOnlySpan<byte> bytes)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
        file.Position = offset;
        file.Write(bytes);
    }

    public static ulong ReadU64(string path, long offset) => BinaryPrimitives.ReadUInt64BigEndian(ReadBytes(path, offset, 8));

    public static uint ReadU32(string path, long offset) => BinaryPrimitives.ReadUInt32BigEndian(ReadBytes(path, offset, 4));

    public static byte[] ReadBytes(string path, long offset, int count)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var bytes = new byte[count];
        file.Position = offset;
        file.ReadAtLeast(bytes, count, throwOnEndOfStream: false);
        return bytes;
    }

    /// <summary>Finds the file offset of the first header extension with <paramref name="magic"/> (its 8-byte frame).</summary>
    public static long FindExtension(string path, uint magic)
    {
        var cluster = ReadBytes(path, 0, 4096);
        var version = BinaryPrimitives.ReadUInt32BigEndian(cluster.AsSpan(4));
        long offset = version >= 3 ? BinaryPrimitives.ReadUInt32BigEndian(cluster.AsSpan(100)) : 72;
        while (offset + 8 <= cluster.Length)
        {
            var m = BinaryPrimitives.ReadUInt32BigEndian(cluster.AsSpan((int)offset));
            var len = BinaryPrimitives.ReadUInt32BigEndian(cluster.AsSpan((int)offset + 4));
            if (m == magic)
                return offset;
            if (m == 0)
                break;
            offset += 8 + ((len + 7) & ~7u);
        }
        throw new InvalidOperationException($"extension 0x{magic:X8} not found");
    }

    /// <summary>Asserts that what the library reports agrees with `qemu-img info --output=json`.</summary>
    public static void AssertAgreesWithQemu(Qcow2Image image, JsonElement info)
    {
        Assert.Equal(info.GetProperty("virtual-size").GetInt64(), image.VirtualSize);
        Assert.Equal(info.GetProperty("cluster-size").GetInt32(), image.ClusterSize);
        Assert.Equal(info.GetProperty("dirty-flag").GetBoolean(), image.IsDirty);
        Assert.Equal(Optional(info, "backing-filename"), image.BackingFileName);
        Assert.Equal(Optional(info, "backing-filename-format"), image.BackingFormat);

        var data = info.GetProperty("format-specific").GetProperty("data");
        Assert.Equal(data.GetProperty("compat").GetString(), image.Version == 3 ? "1.1" : "0.10");
        Assert.Equal(data.GetProperty("compression-type").GetString(), image.CompressionType.ToString().ToLowerInvariant());
        Assert.Equal(data.GetProperty("refcount-bits").GetInt32(), image.RefcountBits);
        if (image.Version >= 3)
        {
            Assert.Equal(data.GetProperty("lazy-refcounts").GetBoolean(), image.LazyRefcounts);
            Assert.Equal(data.GetProperty("corrupt").GetBoolean(), image.IsCorrupt);
            Assert.Equal(data.GetProperty("extended-l2").GetBoolean(), image.ExtendedL2);
        }
        Assert.Equal(Optional(data, "data-file"), image.DataFileName);
        if (data.TryGetProperty("data-file-raw", out var raw))
            Assert.Equal(raw.GetBoolean(), image.DataFileRaw);

        var expectedBitmaps = data.TryGetProperty("bitmaps", out var bitmaps)
            ? bitmaps.EnumerateArray().Select(b => (
                b.GetProperty("name").GetString(),
                b.GetProperty("granularity").GetInt64(),
                string.Join(",", b.GetProperty("flags").EnumerateArray().Select(f => f.GetString())))).ToList()
            : [];
        var actualBitmaps = image.Bitmaps.Select(b => ((string?)b.Name, b.Granularity,
            string.Join(",", new[] { b.InUse ? "in-use" : null, b.Enabled ? "auto" : null }.OfType<string>()))).ToList();
        Assert.Equal(expectedBitmaps, actualBitmaps);

        var expectedSnapshots = info.TryGetProperty("snapshots", out var snapshots)
            ? snapshots.EnumerateArray().Select(s => (s.GetProperty("id").GetString(), s.GetProperty("name").GetString(),
                s.GetProperty("vm-state-size").GetInt64(), s.GetProperty("date-sec").GetInt64(), s.GetProperty("date-nsec").GetInt64(),
                s.GetProperty("vm-clock-sec").GetInt64() * 1_000_000_000 + s.GetProperty("vm-clock-nsec").GetInt64(),
                s.TryGetProperty("icount", out var icount) ? icount.GetInt64() : (long?)null)).ToList()
            : [];
        var actualSnapshots = image.Snapshots.Select(s => ((string?)s.Id, (string?)s.Name, s.VmStateSize, s.Date.ToUnixTimeSeconds(), s.DateNanoseconds,
            s.VmClockNanoseconds, s.ICount)).ToList();
        Assert.Equal(expectedSnapshots, actualSnapshots);
    }

    /// <summary>
    /// Rewrites cluster 0 by hand (independently of the library): the first <paramref name="headerLength"/> bytes come from the
    /// current header (bytes 112.. from <paramref name="unknownFields"/>), then the extensions, END and the backing file name.
    /// </summary>
    public static void ComposeCluster0(string path, uint headerLength, byte[] unknownFields, IEnumerable<(uint Magic, byte[] Data)> extensions, string? backingFile)
    {
        var clusterSize = 1 << (int)ReadU32(path, 20);
        var cluster = new byte[clusterSize];
        ReadBytes(path, 0, Math.Min(112, (int)headerLength)).CopyTo(cluster, 0);
        unknownFields.CopyTo(cluster, 112);
        BinaryPrimitives.WriteUInt32BigEndian(cluster.AsSpan(100), headerLength);
        var offset = (int)headerLength;
        foreach (var (magic, data) in extensions)
        {
            BinaryPrimitives.WriteUInt32BigEndian(cluster.AsSpan(offset), magic);
            BinaryPrimitives.WriteUInt32BigEndian(cluster.AsSpan(offset + 4), (uint)data.Length);
            data.CopyTo(cluster, offset + 8);
            offset += 8 + ((data.Length + 7) & ~7);
        }
        offset += 8;
        BinaryPrimitives.WriteUInt64BigEndian(cluster.AsSpan(8), backingFile is null ? 0UL : (ulong)offset);
        BinaryPrimitives.WriteUInt32BigEndian(cluster.AsSpan(16), (uint)(backingFile?.Length ?? 0));
        System.Text.Encoding.UTF8.GetBytes(backingFile ?? "").CopyTo(cluster, offset);
        WriteBytes(path, 0, cluster);
    }

    public static byte[] Extension(string path, uint magic)
    {
        var at = FindExtension(path, magic);
        return ReadBytes(path, at + 8, (int)ReadU32(path, at + 4));
    }

    private static string? Optional(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.GetString() : null;
}
