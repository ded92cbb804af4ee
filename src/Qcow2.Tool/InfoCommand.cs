using System.Globalization;
using System.Text;

namespace Qcow2.Tool;

/// <summary><c>qcow2 info [--output=human|json] [-f qcow2] [-U] FILE</c>, like <c>qemu-img info</c>.</summary>
internal sealed class InfoCommand : ICommand
{
    public string Name => "info";

    public string Summary => "show information about an image (qemu-img info)";

    public string Usage =>
        """
        usage: qcow2 info [-f qcow2] [--output=human|json] [-U] FILE

        Shows the image's virtual size, cluster size, backing file, snapshots, bitmaps and qcow2 features.
        JSON output uses qemu-img's field names; fields qemu-img does not have are under keys starting with "qcow2-".

          -f qcow2            the image format (only qcow2)
          --output=FMT        human (default) or json
          -U, --force-share   open even while another process (a running VM) writes the image
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } =
        [CommonOptions.Format, CommonOptions.Output, CommonOptions.ForceShare];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        CommonOptions.CheckFormat(args);
        var json = CommonOptions.IsJsonOutput(args);
        var path = CommonOptions.RequireFile(args, Name);
        using var image = CommandLineImage.Open(path, writable: false, forceShare: args.Has(CommonOptions.ForceShare.Key));
        var info = Describe(image, path);
        // Like qemu-img, warnings go to stderr in both modes (JSON output also lists them under "qcow2-warnings").
        foreach (var warning in image.Warnings)
            context.Warn(warning);
        context.Out.Write(json ? info.ToJson() : Human(info));
        return 0;
    }

    /// <summary>The image as qemu-img's <c>ImageInfo</c> (same keys and nesting) plus our own <c>qcow2-*</c> keys.</summary>
    internal static InfoObject Describe(Qcow2Image image, string path)
    {
        var info = new InfoObject();
        if (image.Snapshots.Count > 0)
        {
            var snapshots = new InfoList();
            foreach (var s in image.Snapshots)
            {
                var snapshot = new InfoObject();
                if (s.ICount is { } icount)
                    snapshot.Add("icount", (long)icount);
                var clock = (long)s.VmClockNanoseconds;
                snapshot.Add("vm-clock-nsec", clock % 1_000_000_000)
                    .Add("name", s.Name ?? "")
                    .Add("date-sec", s.Date.ToUnixTimeSeconds())
                    .Add("date-nsec", s.DateNanoseconds)
                    .Add("vm-clock-sec", clock / 1_000_000_000)
                    .Add("id", s.Id ?? "")
                    .Add("vm-state-size", (long)s.VmStateSize);
                snapshots.Add(snapshot);
            }
            info.Add("snapshots", snapshots);
        }
        if (image.BackingFileName is not null && image.BackingFormat is not null)
            info.Add("backing-filename-format", image.BackingFormat);
        info.Add("virtual-size", image.VirtualSize)
            .Add("filename", path)
            .Add("cluster-size", (long)image.ClusterSize)
            .Add("format", "qcow2");
        if (HostFile.AllocatedSize(path) is { } actual)
            info.Add("actual-size", actual);
        info.Add("format-specific", new InfoObject().Add("type", "qcow2").Add("data", FormatSpecific(image, path)));
        if (image.EncryptionMethod != Qcow2EncryptionMethod.None)
            info.Add("encrypted", true);
        if (image.BackingFileName is { } backing)
        {
            info.Add("full-backing-filename", CommonOptions.PathCombine(path, backing));
            info.Add("backing-filename", backing);
        }
        info.Add("dirty-flag", image.IsDirty);

        // Our additions, under keys qemu-img does not use.
        info.Add("qcow2-version", (long)image.Version);
        info.Add("qcow2-features", new InfoObject()
            .Add("incompatible", new InfoUnsigned((ulong)image.IncompatibleFeatures))
            .Add("compatible", new InfoUnsigned((ulong)image.CompatibleFeatures))
            .Add("autoclear", new InfoUnsigned((ulong)image.AutoclearFeatures)));
        info.Add("qcow2-header-extensions", HeaderExtensions(image));
        var warnings = new InfoList();
        foreach (var warning in image.Warnings)
            warnings.Add(warning);
        info.Add("qcow2-warnings", warnings);
        return info;
    }

    private static InfoObject FormatSpecific(Qcow2Image image, string path)
    {
        var compression = image.CompressionType == Qcow2CompressionType.Zstd ? "zstd" : "zlib";
        var data = new InfoObject();
        if (image.Version < 3)
        {
            // qemu-img prints only this subset for compat=0.10 images.
            data.Add("compat", "0.10").Add("compression-type", compression).Add("refcount-bits", (long)image.RefcountBits);
            AddEncryption(data, image);
            return data;
        }
        data.Add("compat", "1.1").Add("compression-type", compression).Add("lazy-refcounts", image.LazyRefcounts);
        if (image.Bitmaps.Count > 0)
        {
            var bitmaps = new InfoList();
            foreach (var b in image.Bitmaps)
            {
                var flags = new InfoList();
                if (b.InUse)
                    flags.Add("in-use");
                if (b.Enabled)
                    flags.Add("auto");
                bitmaps.Add(new InfoObject().Add("flags", flags).Add("name", b.Name).Add("granularity", (long)b.Granularity));
            }
            data.Add("bitmaps", bitmaps);
        }
        data.Add("refcount-bits", (long)image.RefcountBits);
        if (image.DataFileName is { } dataFile)
            data.Add("data-file", dataFile);
        if (image.IncompatibleFeatures.HasFlag(Qcow2IncompatibleFeatures.ExternalDataFile))
            data.Add("data-file-raw", image.DataFileRaw);
        AddEncryption(data, image);
        data.Add("corrupt", image.IsCorrupt).Add("extended-l2", image.ExtendedL2);
        return data;
    }

    private static void AddEncryption(InfoObject data, Qcow2Image image)
    {
        switch (image.EncryptionMethod)
        {
            case Qcow2EncryptionMethod.Aes:
                data.Add("encrypt", new InfoObject().Add("format", "aes"));
                break;
            case Qcow2EncryptionMethod.Luks:
                data.Add("encrypt", LuksInfo.Describe(image));
                break;
        }
    }

    private static InfoList HeaderExtensions(Qcow2Image image)
    {
        var list = new InfoList();
        foreach (var extension in image.Extensions)
        {
            var entry = new InfoObject()
                .Add("magic", "0x" + ((ulong)extension.Magic).ToString("x8", CultureInfo.InvariantCulture))
                .Add("name", extension switch
                {
                    Qcow2BackingFormatExtension => "backing-format",
                    Qcow2FeatureNameTableExtension => "feature-name-table",
                    Qcow2BitmapsExtension => "bitmaps",
                    Qcow2FullDiskEncryptionExtension => "full-disk-encryption",
                    Qcow2ExternalDataFileExtension => "external-data-file",
                    _ => "unknown",
                });
            switch (extension)
            {
                case Qcow2BackingFormatExtension backingFormat:
                    entry.Add("format", backingFormat.Format);
                    break;
                case Qcow2FeatureNameTableExtension table:
                    var features = new InfoList();
                    foreach (var feature in table.Features)
                    {
                        features.Add(new InfoObject()
                            .Add("type", feature.Type switch
                            {
                                Qcow2FeatureType.Incompatible => "incompatible",
                                Qcow2FeatureType.Compatible => "compatible",
                                Qcow2FeatureType.Autoclear => "autoclear",
                                _ => ((long)feature.Type).ToString(CultureInfo.InvariantCulture),
                            })
                            .Add("bit", (long)feature.Bit)
                            .Add("name", feature.Name));
                    }
                    entry.Add("features", features);
                    break;
                case Qcow2BitmapsExtension bitmaps:
                    entry.Add("bitmap-count", (long)bitmaps.BitmapCount)
                        .Add("directory-size", bitmaps.DirectorySize)
                        .Add("directory-offset", bitmaps.DirectoryOffset);
                    break;
                case Qcow2FullDiskEncryptionExtension fde:
                    entry.Add("offset", fde.Offset).Add("length", fde.Length);
                    break;
                case Qcow2ExternalDataFileExtension dataFile:
                    entry.Add("filename", dataFile.FileName);
                    break;
                case Qcow2UnknownHeaderExtension unknown:
                    entry.Add("length", (long)unknown.Data.Length).Add("data", Convert.ToHexStringLower(unknown.Data.Span));
                    break;
            }
            list.Add(entry);
        }
        return list;
    }

    /// <summary>qemu-img's human text (<c>bdrv_image_info_dump</c>).</summary>
    internal static string Human(InfoObject info)
    {
        var text = new StringBuilder();
        var virtualSize = ((InfoNumber)info["virtual-size"]!).Value;
        text.Append("image: ").Append(info["filename"]).Append('\n');
        text.Append("file format: ").Append(info["format"]).Append('\n');
        text.Append("virtual size: ").Append(CommonOptions.SizeToString(virtualSize)).Append(" (").Append(virtualSize).Append(" bytes)\n");
        text.Append("disk size: ")
            .Append(info["actual-size"] is InfoNumber actual ? CommonOptions.SizeToString(actual.Value) : "unavailable").Append('\n');
        if (info["encrypted"] is InfoBool { Value: true })
            text.Append("encrypted: yes\n");
        text.Append("cluster_size: ").Append(info["cluster-size"]).Append('\n');
        if (info["dirty-flag"] is InfoBool { Value: true })
            text.Append("cleanly shut down: no\n");
        if (info["backing-filename"] is InfoString backing)
        {
            text.Append("backing file: ").Append(backing.Value);
            if (info["full-backing-filename"] is not InfoString full)
                text.Append(" (cannot determine actual path)");
            else if (full.Value != backing.Value)
                text.Append(" (actual path: ").Append(full.Value).Append(')');
            text.Append('\n');
            if (info["backing-filename-format"] is InfoString backingFormat)
                text.Append("backing file format: ").Append(backingFormat.Value).Append('\n');
        }
        if (info["snapshots"] is InfoList snapshots)
        {
            text.Append("Snapshot list:\n");
            text.Append(CultureInfo.InvariantCulture, $"{"ID",-10}{"TAG",-17}{"VM SIZE",8}{"DATE",20}{"VM CLOCK",13}{"ICOUNT",11}\n");
            foreach (var item in snapshots.Items)
            {
                var s = (InfoObject)item;
                long Num(string key) => s[key] is InfoNumber n ? n.Value : 0;
                var date = DateTimeOffset.FromUnixTimeSeconds(Num("date-sec")).ToLocalTime();
                var seconds = Num("vm-clock-sec");
                var clock = string.Create(CultureInfo.InvariantCulture,
                    $"{seconds / 3600:00}:{seconds / 60 % 60:00}:{seconds % 60:00}.{Num("vm-clock-nsec") / 1_000_000:000}");
                var icount = s["icount"] is InfoNumber n ? n.Value.ToString(CultureInfo.InvariantCulture) : "";
                text.Append(CultureInfo.InvariantCulture,
                    $"{PadBytes(s["id"], 9)} {PadBytes(s["name"], 16)} {CommonOptions.SizeToString(Num("vm-state-size")),8}{date.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),20}{clock,13}{icount,11}\n");
            }
        }
        if (info["format-specific"] is InfoObject { } specific && specific["data"] is InfoObject data)
        {
            text.Append("Format specific information:\n");
            data.DumpHuman(text, 1);
        }
        return text.ToString();
    }

    /// <summary>printf's <c>%-Ns</c>, as qemu-img uses it: the width counts UTF-8 bytes, not characters.</summary>
    private static string PadBytes(InfoValue? value, int width)
    {
        var text = value?.ToString() ?? "";
        var padding = width - Encoding.UTF8.GetByteCount(text);
        return padding > 0 ? text + new string(' ', padding) : text;
    }
}
