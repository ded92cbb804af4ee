using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using BinaryFormat;

namespace Qcow2;

/// <summary>Loads and checks the bitmap directory and tables as <c>qcow2_load_dirty_bitmaps</c> does (spec §3.3, §3.4).</summary>
internal static class BitmapLoader
{
    public static List<Qcow2Bitmap> Load(IImageStorage storage, BitmapsExtensionData ext, long clusterSize, ulong virtualSize)
    {
        if (ext.DirectorySize == 0)
            throw Qcow2FormatException.ForField("Requested bitmap directory size is zero", "BitmapsExtensionData.DirectorySize", 8, 0, "must not be 0");
        Addressable.Require(ext.DirectoryOffset, ext.DirectorySize, "Failed to read bitmap directory", "BitmapsExtensionData.DirectoryOffset", 16);
        // Bounded: the extension rules already limited the size to 67,107,840 bytes.
        var directory = new byte[ext.DirectorySize];
        storage.Read((long)ext.DirectoryOffset, directory);
        var context = new ValidationContext().Set(ContextKeys.ClusterSize, clusterSize).Set(ContextKeys.VirtualSize, (long)virtualSize);

        var bitmaps = new List<Qcow2Bitmap>();
        var at = 0;
        while (at < directory.Length)
        {
            var position = (long)ext.DirectoryOffset + at;
            // Read without the rules first: QEMU checks the entry's size before its contents.
            var reader = new BinaryFormatValidator(nameof(BitmapDirectoryEntry), "", position, null, null);
            var size = BitmapDirectoryEntry.ReadInto(directory.AsSpan(at), out var entry, ref reader);
            if (reader.First is { MemberPath: "" } noHead)
                throw Broken(noHead);
            if (bitmaps.Count + 1 > ext.NbBitmaps)
                throw Qcow2FormatException.ForField("More bitmaps found than specified in header extension", "BitmapsExtensionData.NbBitmaps", position,
                    ext.NbBitmaps, "is smaller than the number of directory entries");
            // QEMU computes the entry size as an int, so a huge extra_data_size wraps negative and passes its size check;
            // the extra-data rule then refuses it. Let that case through to the rules to fail with the same message.
            if (reader.First is { } overrun
                && unchecked((int)Align.Up8((long)BitmapDirectoryEntry.HeadSize + entry.ExtraDataSize + entry.NameSize)) > directory.Length - at)
                throw Broken(overrun);
            var errors = entry.Validate(context, position);
            if (errors.FirstOrDefault(e => e.MemberPath == nameof(BitmapDirectoryEntry.ExtraDataSize)) is { } extra)
                throw Qcow2FormatException.FromRule("Bitmap extra data is not supported", extra);
            var name = Encoding.UTF8.GetString(entry.Name);
            if (errors.Count > 0)
                throw Qcow2FormatException.FromRule($"Bitmap '{name}' doesn't satisfy the constraints", errors[0]);
            bitmaps.Add(new Qcow2Bitmap(name, entry, position));
            at += size;
        }
        if (bitmaps.Count != ext.NbBitmaps)
            throw Qcow2FormatException.ForField("Less bitmaps found than specified in header extension", "BitmapsExtensionData.NbBitmaps", 0,
                ext.NbBitmaps, $"is larger than the {bitmaps.Count} directory entries");

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var bitmap in bitmaps)
        {
            if (!names.Add(bitmap.Name))
                throw new Qcow2FormatException(string.Create(CultureInfo.InvariantCulture,
                    $"Bitmap already exists: {bitmap.Name} (BitmapDirectoryEntry.Name at offset {bitmap.EntryOffset + BitmapDirectoryEntry.HeadSize}: '{bitmap.Name}' is not unique)"),
                    "BitmapDirectoryEntry.Name", bitmap.Name);
            // In-use data is never loaded, so its table is neither read nor checked (QEMU).
            if (!bitmap.InUse)
                CheckTable(storage, bitmap, clusterSize, virtualSize);
        }
        return bitmaps;
    }

    private static void CheckTable(IImageStorage storage, Qcow2Bitmap bitmap, long clusterSize, ulong virtualSize)
    {
        Addressable.Require(bitmap.Entry.TableOffset, (ulong)bitmap.TableSize * sizeof(ulong),
            $"Could not read bitmap_table table from image for bitmap '{bitmap.Name}'", "BitmapDirectoryEntry.TableOffset", bitmap.EntryOffset);
        // Past the end of the file every entry reads as zero, which is valid: only the part inside the file is read, so a tiny
        // file claiming 65535 tables of 512 MiB each opens in no time.
        var table = EntryTableReader.ForBitmap(storage, bitmap);
        for (long i = 0; i < table.InFile; i++)
        {
            var entry = new BitmapTableEntry(table[i]);
            if (!entry.IsValid(clusterSize))
                throw Qcow2FormatException.ForField($"Could not read bitmap_table table from image for bitmap '{bitmap.Name}': Invalid argument",
                    "BitmapTableEntry", table.OffsetOf(i), "0x" + entry.Value.ToString("X16", CultureInfo.InvariantCulture),
                    "has reserved bits, an unaligned offset, or the all-ones bit together with an offset");
        }
        var required = BitmapTableEntry.RequiredTableSize(virtualSize, bitmap.GranularityBits, clusterSize);
        if ((ulong)bitmap.TableSize != required)
            throw Qcow2FormatException.ForField($"Could not read bitmap '{bitmap.Name}' from image: Invalid argument", "BitmapDirectoryEntry.TableSize",
                bitmap.EntryOffset + 8, bitmap.TableSize, $"is not the {required} entries the virtual size needs");
    }

    private static Qcow2FormatException Broken(BinaryFormatError error) => Qcow2FormatException.FromRule("Broken bitmap directory", error);
}
