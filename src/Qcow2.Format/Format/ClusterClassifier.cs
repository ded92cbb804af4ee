namespace Qcow2;

/// <summary>
/// The one place that says what an L2 entry means: QEMU's <c>qcow2_get_cluster_type</c> and <c>qcow2_get_subcluster_type</c>.
/// The meaning depends on two properties of the image: with extended L2 entries the zero flag is unused and the subcluster
/// bitmap decides; with an external data file host offset 0 is valid, and COPIED (always set there, since every data-file
/// cluster has refcount 1) tells an allocated cluster at 0 from an unallocated one.
/// </summary>
internal readonly record struct ClusterClassifier(bool ExtendedL2, bool ExternalDataFile)
{
    public static ClusterClassifier For(ImageMetadata image) => new(image.ExtendedL2, image.HasExternalDataFile);

    /// <summary>QEMU's <c>qcow2_get_cluster_type</c>.</summary>
    public ClusterType Classify(L2Entry entry)
    {
        if (entry.Compressed)
            return ClusterType.Compressed;
        if ((entry.Value & L2Entry.ZeroFlag) != 0 && !ExtendedL2)
            return (entry.Value & L2Entry.OffsetMask) != 0 ? ClusterType.ZeroAllocated : ClusterType.ZeroPlain;
        if ((entry.Value & L2Entry.OffsetMask) == 0)
            return ExternalDataFile && entry.Copied ? ClusterType.Normal : ClusterType.Unallocated;
        return ClusterType.Normal;
    }

    /// <summary>QEMU's <c>qcow2_get_subcluster_type</c> for subcluster <paramref name="subcluster"/> (0 without extended L2 entries).</summary>
    public SubclusterType ClassifySubcluster(L2Entry entry, L2Bitmap bitmap, int subcluster)
    {
        var type = Classify(entry);
        if (!ExtendedL2)
        {
            return type switch
            {
                ClusterType.Compressed => SubclusterType.Compressed,
                ClusterType.ZeroPlain => SubclusterType.ZeroPlain,
                ClusterType.ZeroAllocated => SubclusterType.ZeroAllocated,
                ClusterType.Normal => SubclusterType.Normal,
                _ => SubclusterType.UnallocatedPlain,
            };
        }
        return type switch
        {
            ClusterType.Compressed => SubclusterType.Compressed,
            ClusterType.Normal when bitmap.IsCorrupt => SubclusterType.Invalid,
            ClusterType.Normal when bitmap.IsZero(subcluster) => SubclusterType.ZeroAllocated,
            ClusterType.Normal when bitmap.IsAllocated(subcluster) => SubclusterType.Normal,
            ClusterType.Normal => SubclusterType.UnallocatedAllocated,
            _ when bitmap.AnyAllocated => SubclusterType.Invalid,
            _ when bitmap.IsZero(subcluster) => SubclusterType.ZeroPlain,
            _ => SubclusterType.UnallocatedPlain,
        };
    }

    /// <summary>Whether the guest cluster holds a reference to a host cluster (normal or preallocated zero; compressed ones are ranges).</summary>
    public static bool HasHostCluster(ClusterType type) => type is ClusterType.Normal or ClusterType.ZeroAllocated;

    /// <summary>
    /// Adds the clusters of the image file that <paramref name="entry"/> holds a reference to: every cluster a compressed
    /// cluster's bytes touch, the cluster of a normal or preallocated zero entry, and none when the data lives in an external
    /// data file (those clusters have no refcounts).
    /// </summary>
    public void AddReferencedClusters(L2Entry entry, int clusterBits, List<long> clusters)
    {
        var type = Classify(entry);
        if (type == ClusterType.Compressed)
        {
            var (offset, length) = entry.CompressedRange(clusterBits);
            for (var cluster = offset >> clusterBits; cluster <= (offset + length - 1) >> clusterBits; cluster++)
                clusters.Add(cluster);
        }
        else if (HasHostCluster(type) && !ExternalDataFile)
        {
            clusters.Add((long)(entry.HostOffset >> clusterBits));
        }
    }
}
