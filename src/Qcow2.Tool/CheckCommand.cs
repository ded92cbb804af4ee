using System.Globalization;

namespace Qcow2.Tool;

/// <summary>
/// <c>qcow2 check [--output=human|json] [-r leaks|all] [-p] [-U] [-f qcow2] FILE</c>, like <c>qemu-img check</c>: problems on stderr,
/// the summary on stdout, exit 0 clean, 1 check failed, 2 corruptions, 3 leaks only.
/// </summary>
internal sealed class CheckCommand : ICommand
{
    private static readonly OptionSpec RepairOption = new("repair", 'r', "repair", true);
    private static readonly OptionSpec ProgressOption = new("progress", 'p', "progress", false);

    public string Name => "check";

    public string Summary => "check the image for consistency, and repair it (qemu-img check)";

    public string Usage =>
        """
        usage: qcow2 check [--output=human|json] [-r leaks|all] [-p] [-q] [-U] [-f qcow2] FILE

        Recomputes every refcount from the metadata and compares it with the image's.
        Exit code: 0 no problems, 1 the check failed, 2 corruptions, 3 leaked clusters only.

          -r leaks            repair leaked clusters (refcounts too high)
          -r all              also repair corruptions, rebuilding the refcount structures if needed
          --output FMT        human (default) or json (qemu-img's ImageCheck)
          -p, --progress      show progress on a terminal
          -q                  quiet
          -U, --force-share   check even while another process (a running VM) writes the image (not with -r)
          -f qcow2            the image format (only qcow2)
          -h, --help          show this help

        """;

    public IReadOnlyList<OptionSpec> Options { get; } =
        [CommonOptions.Format, CommonOptions.Output, CommonOptions.Quiet, CommonOptions.ForceShare, RepairOption, ProgressOption];

    public int Execute(ParsedArguments args, CommandContext context)
    {
        CommonOptions.CheckFormat(args);
        var json = CommonOptions.IsJsonOutput(args);
        var quiet = args.Has(CommonOptions.Quiet.Key);
        var repair = args.Last(RepairOption.Key) switch
        {
            null => Qcow2CheckRepair.None,
            "leaks" => Qcow2CheckRepair.Leaks,
            "all" => Qcow2CheckRepair.All,
            var other => throw new UsageException($"Unknown option value for -r (expecting 'leaks' or 'all'): {other}"),
        };
        var path = CommonOptions.RequireFile(args, Name);

        using var image = CommandLineImage.Open(path, writable: repair != Qcow2CheckRepair.None, forCheck: true,
            forceShare: args.Has(CommonOptions.ForceShare.Key));
        foreach (var warning in image.Warnings)
            context.Warn(warning);

        using var progress = args.Has(ProgressOption.Key) && !quiet && !json ? new TerminalProgress(context.Error) : null;
        var result = image.Check(new Qcow2CheckOptions { Repair = repair, Progress = progress });
        progress?.Finish();

        foreach (var finding in result.RepairFindings)
            context.Error.WriteLine(finding.Message);
        if (result.DoubleChecked && !json && !quiet)
        {
            context.Out.Write(string.Create(CultureInfo.InvariantCulture,
                $"The following inconsistencies were found and repaired:\n\n    {result.LeaksFixed} leaked clusters\n    {result.CorruptionsFixed} corruptions\n\nDouble checking the fixed image now...\n"));
        }
        foreach (var finding in result.Findings)
            context.Error.WriteLine(finding.Message);

        if (result.FailureMessage is { } failure)
            throw new ToolException($"Check failed: {failure}");
        if (json)
            context.Out.Write(Json(result, path).ToJson());
        else if (!quiet)
            context.Out.Write(Human(result));
        if (result.CheckErrors > 0)
            throw new ToolException("Check failed");
        return ExitCode(result);
    }

    /// <summary>The exit code <c>qemu-img check</c> gives: 0 clean, 1 check failed or internal errors, 2 corruptions, 3 only leaks.</summary>
    internal static int ExitCode(Qcow2CheckResult result) =>
        result.FailureMessage is not null || result.CheckErrors > 0 ? 1 : result.Corruptions > 0 ? 2 : result.Leaks > 0 ? 3 : 0;

    /// <summary>qemu-img's <c>ImageCheck</c>: filename, format and check-errors always; every other field only when non-zero.</summary>
    internal static InfoObject Json(Qcow2CheckResult result, string path)
    {
        var json = new InfoObject();
        void AddIfNonZero(string key, long value)
        {
            if (value != 0)
                json.Add(key, value);
        }
        AddIfNonZero("image-end-offset", result.ImageEndOffset);
        AddIfNonZero("total-clusters", result.TotalClusters);
        json.Add("check-errors", result.CheckErrors);
        AddIfNonZero("corruptions", result.Corruptions);
        AddIfNonZero("leaks", result.Leaks);
        AddIfNonZero("corruptions-fixed", result.CorruptionsFixed);
        AddIfNonZero("leaks-fixed", result.LeaksFixed);
        AddIfNonZero("allocated-clusters", result.AllocatedClusters);
        AddIfNonZero("fragmented-clusters", result.FragmentedClusters);
        AddIfNonZero("compressed-clusters", result.CompressedClusters);
        json.Add("filename", path);
        json.Add("format", "qcow2");
        return json;
    }

    /// <summary>qemu-img's <c>dump_human_image_check</c>.</summary>
    internal static string Human(Qcow2CheckResult result)
    {
        var text = new System.Text.StringBuilder();
        if (result.Corruptions == 0 && result.Leaks == 0 && result.CheckErrors == 0)
        {
            text.Append("No errors were found on the image.\n");
        }
        else
        {
            if (result.Corruptions > 0)
                text.Append(CultureInfo.InvariantCulture, $"\n{result.Corruptions} errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n");
            if (result.Leaks > 0)
                text.Append(CultureInfo.InvariantCulture, $"\n{result.Leaks} leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n");
            if (result.CheckErrors > 0)
                text.Append(CultureInfo.InvariantCulture, $"\n{result.CheckErrors} internal errors have occurred during the check.\n");
        }
        if (result.TotalClusters != 0 && result.AllocatedClusters != 0)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{result.AllocatedClusters}/{result.TotalClusters} = {result.AllocatedClusters * 100.0 / result.TotalClusters:F2}% allocated, {result.FragmentedClusters * 100.0 / result.AllocatedClusters:F2}% fragmented, {result.CompressedClusters * 100.0 / result.AllocatedClusters:F2}% compressed clusters\n");
        }
        if (result.ImageEndOffset != 0)
            text.Append(CultureInfo.InvariantCulture, $"Image end offset: {result.ImageEndOffset}\n");
        return text.ToString();
    }

    /// <summary>qemu-img's <c>-p</c>: "    (12.34/100%)" redrawn in place, only on a terminal.</summary>
    private sealed class TerminalProgress(TextWriter output) : IProgress<double>, IDisposable
    {
        private readonly bool enabled = !Console.IsErrorRedirected;
        private int lastHundredths = -1;

        public void Report(double value)
        {
            var hundredths = (int)(Math.Clamp(value, 0, 1) * 10000);
            if (!enabled || hundredths == lastHundredths)
                return;
            lastHundredths = hundredths;
            output.Write(string.Create(CultureInfo.InvariantCulture, $"    ({hundredths / 100.0:F2}/100%)\r"));
            output.Flush();
        }

        public void Finish() => Report(1);

        public void Dispose()
        {
            if (enabled && lastHundredths >= 0)
                output.Write("\n");
        }
    }
}
