namespace Qcow2;

/// <summary>
/// One bitmap of the directory to write. <see cref="Existing"/> without <see cref="Content"/>: the bitmap keeps its table
/// (offset and size) unchanged, only name-independent flags may change. With <see cref="Content"/>: a new table, sized for the
/// target virtual size, is written; the old one (if <see cref="Existing"/> is set) is freed after the switch except for the
/// data clusters the content keeps.
/// </summary>
internal sealed record BitmapDefinition(string Name, int GranularityBits, uint Flags, Qcow2Bitmap? Existing, BitmapContent? Content)
{
    /// <summary>Keeps an existing bitmap as it is, optionally with other flags.</summary>
    public static BitmapDefinition Keep(Qcow2Bitmap bitmap, uint? flags = null) =>
        new(bitmap.Name, bitmap.GranularityBits, flags ?? bitmap.Entry.Flags, bitmap, null);

    /// <summary>Replaces an existing bitmap's table with <paramref name="content"/>.</summary>
    public static BitmapDefinition Replace(Qcow2Bitmap bitmap, BitmapContent content, uint? flags = null) =>
        new(bitmap.Name, bitmap.GranularityBits, flags ?? bitmap.Entry.Flags, bitmap, content);

    /// <summary>A new bitmap.</summary>
    public static BitmapDefinition New(string name, int granularityBits, uint flags, BitmapContent content) =>
        new(name, granularityBits, flags, null, content);
}
