using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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

    /// <summary>
    /// How many entries of a standard L2 table, from <paramref name="first"/> on, are plain: no bit set but COPIED and those
    /// of a cluster-aligned offset, so either unallocated (no offset) or a normal cluster with no reserved bit. Such an entry
    /// needs no classification; a walk can take its offset and flag as they are. Compares several entries at once. Always 0
    /// with extended L2 entries or an external data file, where those bits alone do not say what an entry is.
    /// </summary>
    public int CountPlainEntries(ReadOnlySpan<byte> table, int first, int clusterBits)
    {
        if (ExtendedL2 || ExternalDataFile)
            return 0;
        // Every bit but COPIED and the aligned offset's; compared against the entries as they lie in memory (big-endian).
        var notPlain = ~((L2Entry.OffsetMask & ~((1UL << clusterBits) - 1)) | L2Entry.CopiedFlag);
        var inMemory = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(notPlain) : notPlain;
        var entries = MemoryMarshal.Cast<byte, ulong>(table);
        var i = first;
        if (Vector256.IsHardwareAccelerated)
        {
            var mask = Vector256.Create(inMemory);
            for (; i <= entries.Length - Vector256<ulong>.Count; i += Vector256<ulong>.Count)
            {
                if (!Vector256.EqualsAll(Vector256.Create(entries.Slice(i, Vector256<ulong>.Count)) & mask, Vector256<ulong>.Zero))
                    break;
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var mask = Vector128.Create(inMemory);
            for (; i <= entries.Length - Vector128<ulong>.Count; i += Vector128<ulong>.Count)
            {
                if (!Vector128.EqualsAll(Vector128.Create(entries.Slice(i, Vector128<ulong>.Count)) & mask, Vector128<ulong>.Zero))
                    break;
            }
        }
        while (i < entries.Length && (entries[i] & inMemory) == 0)
            i++;
        return i - first;
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
