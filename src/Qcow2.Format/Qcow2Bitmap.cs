using BinaryFormat;

namespace Qcow2;

/// <summary>A persistent dirty bitmap from the bitmap directory (spec §3.3).</summary>
public sealed class Qcow2Bitmap
{
    internal Qcow2Bitmap(string name, BitmapDirectoryEntry entry, long entryOffset)
    {
        Name = name;
        Entry = entry;
        EntryOffset = entryOffset;
    }

    /// <summary>The file offset of the bitmap's directory entry.</summary>
    internal long EntryOffset { get; }

    internal BitmapDirectoryEntry Entry { get; }

    /// <summary>The bitmap's name.</summary>
    public string Name { get; }

    /// <summary>log2 of <see cref="Granularity"/>.</summary>
    public int GranularityBits => Entry.GranularityBits;

    /// <summary>The guest bytes one bit covers.</summary>
    public long Granularity => 1L << Entry.GranularityBits;

    /// <summary>The in_use flag: the saved data may be stale (for example after a crash).</summary>
    public bool InUse => (Entry.Flags & BitmapDirectoryEntry.InUseFlag) != 0;

    /// <summary>The auto flag: the bitmap is enabled and tracks writes.</summary>
    public bool Enabled => (Entry.Flags & BitmapDirectoryEntry.AutoFlag) != 0;

    /// <summary>Whether the data can be trusted; false for in-use bitmaps, which QEMU lists but never loads.</summary>
    public bool IsConsistent => !InUse;

    /// <summary>The bitmap table's file offset.</summary>
    public long TableOffset => (long)Entry.TableOffset;

    /// <summary>The number of bitmap table entries.</summary>
    public int TableSize => (int)Entry.TableSize;
}
