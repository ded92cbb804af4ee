using System.Text.RegularExpressions;
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Check;

/// <summary>
/// Persistent bitmaps and check: their directory, tables and data clusters are references, so a healthy image with dirtied
/// bitmaps has no leaks; once a writer without bitmap support drops the extension (autoclear bit 0 cleared), those clusters
/// leak, both checks report the same leaks, and <c>-r leaks</c> reclaims them (the seed scenario of issue 4).
/// </summary>
public sealed partial class BitmapLeakTests
{
    [QemuFact]
    public void Dirtied_bitmaps_are_not_leaks()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        CheckScenarios.Bitmaps(dir, image);
        Assert.Equal(2, Qemu.InfoJson(image).GetProperty("format-specific").GetProperty("data").GetProperty("bitmaps").GetArrayLength());

        using var opened = Qcow2Image.Open(image, new Qcow2OpenOptions { ForCheck = true });
        Assert.Equal(2, opened.Bitmaps.Count);
        var result = opened.Check();
        Assert.Equal(0, result.ExitCode());
        Assert.Empty(result.Findings);
    }

    [QemuFact]
    public void Our_writable_open_after_a_bitmap_unaware_writer_leaks_the_bitmap_clusters_and_leak_repair_reclaims_them()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        var verifyData = CheckScenarios.Bitmaps(dir, image);
        var bytes = new QcowBytes(image);
        Assert.Equal(1UL, bytes.AutoclearFeatures & 1);
        bytes.AutoclearFeatures &= ~1UL; // what a program without bitmap support must do before writing

        using (var opened = Qcow2Image.Open(image, new Qcow2OpenOptions { Writable = true }))
        {
            Assert.Empty(opened.Bitmaps);
            Assert.NotEmpty(opened.Warnings);
        }
        Assert.False(Qemu.InfoJson(image).GetProperty("format-specific").GetProperty("data").TryGetProperty("bitmaps", out _),
            "the writable open should have dropped the bitmaps extension");

        // Both checks see the same leaked clusters, in the same order.
        var qemu = CheckRunner.QemuImg(image, json: false);
        var ours = CheckRunner.Ours(image, json: false);
        Assert.Equal(3, qemu.ExitCode);
        CheckRunner.AssertSameHuman(qemu, ours);
        var leaked = ours.ProblemLines.Select(line => LeakLine().Match(line)).ToList();
        Assert.All(leaked, match => Assert.True(match.Success));
        // Directory (1) + two bitmap tables (2) + data clusters of both bitmaps (at least 2, written at 0 and 32M).
        Assert.True(leaked.Count >= 5, $"expected the bitmap clusters to leak, got {leaked.Count}");
        var qemuJson = CheckRunner.QemuImg(image, json: true);
        var oursJson = CheckRunner.Ours(image, json: true);
        CheckRunner.AssertSameJson(qemuJson, oursJson);
        Assert.Equal(leaked.Count, oursJson.Json!.Value.GetProperty("leaks").GetInt32());

        var repair = CheckRunner.Ours(image, json: true, "leaks");
        Assert.Equal(0, repair.ExitCode);
        Assert.Equal(leaked.Count, repair.Json!.Value.GetProperty("leaks-fixed").GetInt32());
        foreach (var match in leaked)
            Assert.Equal(0UL, bytes.Refcount(long.Parse(match.Groups[1].Value)));
        var after = CheckRunner.QemuImg(image, json: true);
        Assert.True(after.ExitCode == 0, $"qemu-img check after our -r leaks\n{after}");
        verifyData(image);
    }

    [GeneratedRegex(@"^Leaked cluster (\d+) refcount=1 reference=0$")]
    private static partial Regex LeakLine();
}
