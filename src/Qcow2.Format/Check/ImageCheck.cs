namespace Qcow2;

/// <summary>
/// Rebuilds every refcount from scratch by walking all metadata and compares the result with the refcounts on disk, with
/// QEMU 7.2's classification, messages and repairs (<c>qcow2_check_refcounts</c>, spec §8). Differences from QEMU, on purpose:
/// a rebuild places the new refcount structures after everything the old ones might own (QEMU 7.2 can collide with them and
/// mark the image corrupt), and the dirty and corrupt bits are cleared only when the image really is consistent.
/// The work is done by passes, each returning what it found: <see cref="ReferenceCountPass"/>, <see cref="RefcountComparisonPass"/>,
/// <see cref="RefcountRebuildPass"/> and <see cref="CopiedFlagPass"/>; this class only decides which run and adds up their counts.
/// </summary>
internal static class ImageCheck
{
    /// <summary>Runs a check as <c>qemu-img check [-r …]</c> does, including the second pass after a repair.</summary>
    public static Qcow2CheckResult Run(IImageStorage storage, ImageMetadata image, Action rewriteHeader, Qcow2CheckOptions options)
    {
        if (options.Repair != Qcow2CheckRepair.None && !storage.CanWrite)
            throw new InvalidOperationException("A repair needs the image opened writable.");

        var firstContext = new CheckContext(storage, image, options);
        var (first, firstFailure) = Execute(firstContext, rewriteHeader);
        if (firstFailure is not null || (first.LeaksFixed == 0 && first.CorruptionsFixed == 0))
            return new Qcow2CheckResult(first, firstContext.Findings, [], first.LeaksFixed, first.CorruptionsFixed, firstFailure);

        var secondContext = new CheckContext(storage, image, new Qcow2CheckOptions { Progress = options.Progress, CancellationToken = options.CancellationToken, SingleThreaded = options.SingleThreaded });
        var (second, secondFailure) = Execute(secondContext, rewriteHeader);
        return new Qcow2CheckResult(second, secondContext.Findings, firstContext.Findings, first.LeaksFixed, first.CorruptionsFixed, secondFailure);
    }

    /// <summary>One run of all passes; returns the counts and why the check itself failed (QEMU: "Check failed: …"), or null.</summary>
    private static (CheckCounters Counters, string? Failure) Execute(CheckContext context, Action rewriteHeader)
    {
        var fix = context.Options.Repair;
        var storage = context.Storage;
        var image = context.Image;
        var counters = new CheckCounters { TotalClusters = (long)Align.DivideRoundUp(image.VirtualSize, (ulong)context.ClusterSize) };

        try
        {
            var references = ReferenceCountPass.Run(context, fix, context.ClustersFor(storage.Length));
            counters.Add(references.Counters);
            var onDisk = RefcountComparisonPass.Run(context, references.Computed, Qcow2CheckRepair.None);

            var needsRebuild = references.NeedsRebuild || onDisk.NeedsRebuild;
            var compared = counters;
            compared.Add(onDisk.Counters);
            var rebuilt = needsRebuild && fix == Qcow2CheckRepair.All;
            if (rebuilt)
            {
                var broken = compared;
                counters = broken;
                context.Findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.RefcountRebuild, "Rebuilding refcount structure"));
                RefcountRebuildPass.Run(context, references.Computed, references.ClaimedEnd);

                // The rebuilt structures are counted from scratch; the statistics of both walks add up, as in QEMU.
                counters.Corruptions = 0;
                counters.Leaks = 0;
                references = ReferenceCountPass.Run(context, Qcow2CheckRepair.None, context.ClustersFor(storage.Length));
                counters.Add(references.Counters);

                // The old structures are leaks now; fixing them is part of the rebuild, not something to report. Only leaks the
                // new structures themselves left count.
                onDisk = RefcountComparisonPass.Run(context, references.Computed, Qcow2CheckRepair.Leaks);
                if (onDisk.NeedsRebuild)
                    context.Findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.RefcountRebuild, "ERROR rebuilt refcount structure is still broken"));
                if (counters.Corruptions < broken.Corruptions)
                    counters.CorruptionsFixed += broken.Corruptions - counters.Corruptions;
                if (counters.Leaks < broken.Leaks)
                    counters.LeaksFixed += broken.Leaks - counters.Leaks;
                counters.Leaks += onDisk.Counters.Leaks;
            }
            else if (needsRebuild && fix != Qcow2CheckRepair.None)
            {
                context.Findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.RefcountRebuild, "ERROR need to rebuild refcount structures"));
                compared.CheckErrors++;
                return (compared, "Input/output error");
            }
            else if (fix != Qcow2CheckRepair.None && (compared.Leaks > 0 || compared.Corruptions > 0))
            {
                // Compare again, this time repairing; the first comparison only counted (its lines stay, as in qemu-img's output).
                onDisk = RefcountComparisonPass.Run(context, references.Computed, fix);
                counters.Add(onDisk.Counters);
            }
            else
            {
                counters = compared;
            }

            var repairCopied = fix == Qcow2CheckRepair.All
                || (fix == Qcow2CheckRepair.Leaks && counters.CheckErrors == 0 && counters.Corruptions == 0 && counters.Leaks == 0);
            var tablesChanged = rebuilt || counters.CorruptionsFixed != 0 || counters.LeaksFixed != 0;
            counters.Add(CopiedFlagPass.Run(context, references, onDisk, repairCopied, tablesChanged));
            counters.ImageEndOffset = (onDisk.HighestCluster + 1) * context.ClusterSize;
        }
        catch (CheckFailedException e)
        {
            counters.Add(e.Counted);
            return (counters, e.Message);
        }

        if (fix != Qcow2CheckRepair.None)
            storage.Flush();
        if (fix != Qcow2CheckRepair.None && counters.CheckErrors == 0 && counters.Corruptions == 0
            && (image.Header.IncompatibleFeatures & (Features.Dirty | Features.Corrupt)) != 0)
        {
            image.Header.IncompatibleFeatures &= ~(Features.Dirty | Features.Corrupt);
            rewriteHeader();
        }
        return (counters, null);
    }
}
