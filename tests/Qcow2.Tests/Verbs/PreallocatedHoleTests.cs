using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.GuestData.GuestImages;
using static Qcow2.Tests.Verbs.VerbParity;

namespace Qcow2.Tests.Verbs;

/// <summary>
/// Images whose data clusters are holes in the file (<c>preallocation=metadata</c>): map reports them zero and data, measure
/// skips them, compare and convert treat them as zeros, all as qemu-img does, which asks the file about its holes only when the
/// image looks preallocated with metadata. Fully allocated images (falloc, full) and images with an external data file, which
/// qemu-img does not probe, stay data.
/// </summary>
[Trait("Category", "Interop")]
public sealed class PreallocatedHoleTests
{
    public static TheoryData<string, string[]> Images => new()
    {
        { "preallocation=metadata", [] },
        // A partly written cluster, a run of written clusters, and the last cluster of the file.
        { "preallocation=metadata", ["write -P 5 64k 4k", "write -P 6 1M 128k", "write -P 7 4032k 64k", "write -z 2M 64k"] },
        { "preallocation=metadata,cluster_size=4k", ["write -P 5 6k 2k", "write -P 6 1M 12k"] },
        { "preallocation=metadata,extended_l2=on", ["write -P 5 64k 2k", "write -P 6 1M 128k"] },
        // Written almost everywhere: the file occupies most of what the refcounts count, so qemu-img stops probing.
        { "preallocation=metadata", ["write -P 5 0 3M", "write -P 6 3136k 64k"] },
        { "preallocation=falloc", ["write -P 5 64k 4k"] },
        { "preallocation=full", ["write -P 5 64k 4k"] },
        { "preallocation=metadata,data_file=x.data", ["write -P 5 64k 4k"] },
    };

    [QemuTheory]
    [MemberData(nameof(Images))]
    public void Map_measure_compare_and_convert_are_qemu_img_s(string options, string[] writes)
    {
        using var dir = new TempDir();
        var image = dir.File("x.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", options.Replace("x.data", dir.File("x.data"), StringComparison.Ordinal), image, "4M");
        if (writes.Length > 0)
            Io(image, writes);
        AssertSame(dir, image);
    }

    [QemuFact]
    public void A_preallocated_backing_file_is_probed_at_its_depth()
    {
        using var dir = new TempDir();
        var basePath = dir.File("base.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", basePath, "4M");
        Io(basePath, "write -P 1 0 4k", "write -P 2 2M 64k");
        var top = dir.File("top.qcow2");
        Img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top);
        Io(top, "write -P 3 1M 64k", "write -z 2M 4k");
        AssertSame(dir, top);
    }

    private static void AssertSame(TempDir dir, string image)
    {
        AssertSameAsQemu("map", "--output=json", image);
        AssertSameAsQemu("map", "--output=human", image);
        AssertSameAsQemu("measure", "--output=json", "-O", "qcow2", image);
        AssertSameAsQemu("measure", "--output=json", "-O", "raw", image);
        var empty = dir.File("empty.qcow2");
        Img("create", "-q", "-f", "qcow2", empty, "4M");
        AssertSameAsQemu("compare", image, empty);
        AssertSameAsQemu("compare", "-s", image, empty);
        foreach (var format in new[] { "qcow2", "raw" })
        {
            var (ours, theirs) = (dir.File("ours." + format), dir.File("theirs." + format));
            File.Delete(ours);
            File.Delete(theirs);
            ToolRunner.Run("convert", "-O", format, image, ours).EnsureSuccess();
            Img("convert", "-O", format, image, theirs);
            byte[] Guest(string path) => format == "raw" ? File.ReadAllBytes(path) : QemuRaw(path, dir);
            AssertSameBytes(Guest(theirs), Guest(ours), "the converted guest data");
            Assert.Equal(Qemu.Img("map", "--output=json", "-f", format, theirs).StandardOutput.Replace("theirs", "ours", StringComparison.Ordinal),
                Qemu.Img("map", "--output=json", "-f", format, ours).StandardOutput);
            AssertSameAsQemu("compare", "-s", "-F", format, image, ours);
        }
    }
}
