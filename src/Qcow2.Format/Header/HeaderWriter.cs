using System.Globalization;
using System.Text;

namespace Qcow2;

/// <summary>
/// Builds all of cluster 0 from an <see cref="ImageMetadata"/> the way <c>qcow2_update_header</c> lays it out (spec §2.3, §6):
/// header, unknown header fields, extensions, END, backing file name, zeros.
/// </summary>
internal static class HeaderWriter
{
    private const int V3HeaderSize = 112;

    /// <summary>Returns the new cluster 0, the header written into it and the extensions in the order written.</summary>
    /// <exception cref="Qcow2FormatException">The header does not fit in one cluster.</exception>
    public static (byte[] Cluster, Qcow2Header Header, List<Qcow2HeaderExtension> Extensions) Build(ImageMetadata image)
    {
        var clusterSize = image.ClusterSize;
        var cluster = new byte[clusterSize];
        var header = image.Header;
        header.Magic = Qcow2Header.MagicValue;
        header.VirtualSize = image.VirtualSize;
        var offset = header.Version >= 3 ? V3HeaderSize : Qcow2Header.V2Length;
        if (header.Version >= 3)
            header.HeaderLength = (uint)(V3HeaderSize + image.UnknownHeaderFields.Length);
        if (offset + image.UnknownHeaderFields.Length > clusterSize)
            throw NoSpace("the unknown header fields", offset + image.UnknownHeaderFields.Length, clusterSize);
        image.UnknownHeaderFields.CopyTo(cluster, offset);
        offset += image.UnknownHeaderFields.Length;

        var extensions = Extensions(image);
        foreach (var extension in extensions)
        {
            var frame = new HeaderExtensionFrame { Magic = extension.Magic, Data = extension.EncodeData() };
            if (!HeaderExtensionArea.TryAppend(cluster, ref offset, frame))
                throw NoSpace($"header extension 0x{extension.Magic.ToString("X8", CultureInfo.InvariantCulture)}", offset + frame.GetEncodedSize(), clusterSize);
        }
        var end = new HeaderExtensionFrame { Magic = HeaderExtensionFrame.EndMagic };
        if (!HeaderExtensionArea.TryAppend(cluster, ref offset, end))
            throw NoSpace("the end-of-extensions marker", offset + end.GetEncodedSize(), clusterSize);

        header.BackingFileOffset = 0;
        header.BackingFileSize = 0;
        if (image.BackingFileName is { } backing)
        {
            var name = Encoding.UTF8.GetBytes(backing);
            if (name.Length > Limits.MaxNameSize)
                throw Qcow2FormatException.ForField("Backing file name too long", "BackingFileName", offset, name.Length, $"bytes is more than {Limits.MaxNameSize}");
            if (offset + name.Length > clusterSize)
                throw NoSpace("the backing file name", offset + name.Length, clusterSize);
            name.CopyTo(cluster, offset);
            header.BackingFileOffset = (ulong)offset;
            header.BackingFileSize = (uint)name.Length;
        }
        header.Write(cluster);
        return (cluster, header, extensions);
    }

    /// <summary>QEMU's order: backing format, data file, FDE pointer, feature table, bitmaps, then the unknown ones.</summary>
    private static List<Qcow2HeaderExtension> Extensions(ImageMetadata image)
    {
        var list = new List<Qcow2HeaderExtension>();
        if (image.BackingFormat is { } format)
            list.Add(new Qcow2BackingFormatExtension(format));
        if (image.DataFileName is { } dataFile)
            list.Add(new Qcow2ExternalDataFileExtension(dataFile));
        if (image.FullDiskEncryption is { Offset: not 0 } fde)
            list.Add(new Qcow2FullDiskEncryptionExtension(fde));
        if (image.Header.Version >= 3 && image.ClusterSize > 4096)
            list.Add(new Qcow2FeatureNameTableExtension(Features.QemuNameTable));
        if (image.BitmapsExtension is { NbBitmaps: > 0 } bitmaps)
            list.Add(new Qcow2BitmapsExtension(bitmaps));
        list.AddRange(image.UnknownExtensions);
        return list;
    }

    private static Qcow2FormatException NoSpace(string what, long needed, int clusterSize) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"No space left in the file header: {what} would end at byte {needed}, but the header must fit in cluster 0 ({clusterSize} bytes)"),
            "Cluster0", needed.ToString(CultureInfo.InvariantCulture));
}
