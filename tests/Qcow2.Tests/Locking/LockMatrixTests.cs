using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Locking;

/// <summary>How a holder keeps the image open: the three ways QEMU users do (docs/locking.md).</summary>
public enum HolderKind
{
    ReadOnly,
    ReadWrite,
    ReadOnlyForceShare,
}

/// <summary>
/// The lock matrix: an image held by qemu-io or by a <see cref="Qcow2Image"/> in this process, against each of our verbs and
/// each of qemu-img's. The expected outcome of every cell is what qemu-img does in the same cell: both succeed, or both fail
/// with the same words. OFD locks belong to an open file description, so a second open in this process conflicts exactly
/// as a second process does; that makes the in-process holder also the "ours against ours" row.
/// </summary>
[Trait("Category", "Interop")]
public sealed class LockMatrixTests
{
    /// <summary>One of our verbs and the qemu-img command that locks the same way; <c>IMG</c> stands for the image.</summary>
    /// <param name="OpenIsEnough">
    /// The verb's own result is not comparable (dump has no qemu-img twin), so any outcome past the open counts as "ok":
    /// for example, under a running qemu-io the bitmaps are marked in use and cannot be dumped.
    /// </param>
    private sealed record Probe(string Name, string[] Ours, string[] Qemu, bool OpenIsEnough = false);

    private static readonly Probe[] Probes =
    [
        new("info", ["info", "IMG"], ["info", "IMG"]),
        new("info -U", ["info", "-U", "IMG"], ["info", "-U", "IMG"]),
        new("check", ["check", "IMG"], ["check", "IMG"]),
        new("check -U", ["check", "-U", "IMG"], ["check", "-U", "IMG"]),
        new("check -U -r all", ["check", "-U", "-r", "all", "IMG"], ["check", "-U", "-r", "all", "IMG"]),
        new("check -r leaks", ["check", "-r", "leaks", "IMG"], ["check", "-r", "leaks", "IMG"]),
        new("check -r all", ["check", "-r", "all", "IMG"], ["check", "-r", "all", "IMG"]),
        new("amend", ["amend", "-o", "lazy_refcounts=on", "IMG"], ["amend", "-o", "lazy_refcounts=on", "IMG"]),
        new("resize", ["resize", "IMG", "+1M"], ["resize", "IMG", "+1M"]),
        new("bitmap --add", ["bitmap", "--add", "IMG", "add-ours"], ["bitmap", "--add", "IMG", "add-qemu"]),
        new("bitmap --remove", ["bitmap", "--remove", "IMG", "rm-ours"], ["bitmap", "--remove", "IMG", "rm-qemu"]),
        // qemu-img has no dump; its read-only verb that reads the image the same way is check.
        new("bitmap --dump", ["bitmap", "--dump", "IMG", "keep"], ["check", "IMG"], OpenIsEnough: true),
        new("bitmap --dump -U", ["bitmap", "--dump", "-U", "IMG", "keep"], ["check", "-U", "IMG"], OpenIsEnough: true),
        // Last: when it succeeds it empties the image.
        new("create", ["create", "-q", "-f", "qcow2", "IMG", "64M"], ["create", "-q", "-f", "qcow2", "IMG", "64M"]),
    ];

    /// <summary>QEMU-only users, compared between a qemu-io holder and ours.</summary>
    private static readonly string[][] QemuIoProbes =
    [
        ["-c", "write 0 64k", "IMG"],
        ["-r", "-c", "read 0 64k", "IMG"],
        ["-U", "-r", "-c", "read 0 64k", "IMG"],
    ];

    [QemuTheory]
    [InlineData(HolderKind.ReadOnly)]
    [InlineData(HolderKind.ReadWrite)]
    [InlineData(HolderKind.ReadOnlyForceShare)]
    public void Qemu_holding_the_image_refuses_our_verbs_as_it_refuses_qemu_img(HolderKind kind)
    {
        using var dir = new TempDir();
        var image = Prepare(dir.File("held.qcow2"));
        var mismatches = new List<string>();
        using (new QemuIoHolder(image, QemuIoOptions(kind)))
        {
            foreach (var probe in Probes)
            {
                var ours = Ours(probe, image);
                var theirs = QemuImg(probe, image);
                if (ours != theirs)
                    mismatches.Add($"{probe.Name}: qemu-img: {theirs} | ours: {ours}");
            }
        }
        Assert.True(mismatches.Count == 0, $"qemu-io {string.Join(' ', QemuIoOptions(kind))} holding:\n" + string.Join('\n', mismatches));
    }

    [QemuTheory]
    [InlineData(HolderKind.ReadOnly)]
    [InlineData(HolderKind.ReadWrite)]
    [InlineData(HolderKind.ReadOnlyForceShare)]
    public void Our_open_image_is_seen_by_qemu_and_by_us_as_qemu_sees_its_own(HolderKind kind)
    {
        using var dir = new TempDir();
        var qemuHeld = Prepare(dir.File("qemu-held.qcow2"));
        var expected = new Dictionary<string, string>();
        using (new QemuIoHolder(qemuHeld, QemuIoOptions(kind)))
        {
            foreach (var probe in Probes)
                expected[probe.Name] = QemuImg(probe, qemuHeld);
            foreach (var probe in QemuIoProbes)
                expected[string.Join(' ', probe)] = QemuIo(probe, qemuHeld);
        }

        var ourHeld = Prepare(dir.File("ours-held.qcow2"));
        var mismatches = new List<string>();
        using (Qcow2Image.Open(ourHeld, OpenOptions(kind)))
        {
            foreach (var probe in QemuIoProbes)
            {
                var name = string.Join(' ', probe);
                var actual = QemuIo(probe, ourHeld);
                if (actual != expected[name])
                    mismatches.Add($"qemu-io {name}: with qemu-io holding: {expected[name]} | with us holding: {actual}");
            }
            foreach (var probe in Probes)
            {
                var theirs = QemuImg(probe, ourHeld);
                var ours = Ours(probe, ourHeld);
                if (theirs != expected[probe.Name])
                    mismatches.Add($"qemu-img {probe.Name}: with qemu-io holding: {expected[probe.Name]} | with us holding: {theirs}");
                if (ours != theirs)
                    mismatches.Add($"qcow2 {probe.Name}: qemu-img: {theirs} | ours: {ours}");
            }
        }
        Assert.True(mismatches.Count == 0, $"Qcow2Image open {kind}:\n" + string.Join('\n', mismatches));
    }

    /// <summary>A clean image with the bitmaps the probes use.</summary>
    internal static string Prepare(string path)
    {
        Qemu.Img("create", "-q", "-f", "qcow2", path, "64M").EnsureSuccess("qemu-img create");
        Qemu.Io("-f", "qcow2", "-c", "write 0 1M", path).EnsureSuccess("qemu-io write");
        foreach (var name in new[] { "rm-ours", "rm-qemu", "keep" })
            Qemu.Img("bitmap", "--add", path, name).EnsureSuccess("qemu-img bitmap --add");
        return path;
    }

    internal static string[] QemuIoOptions(HolderKind kind) => kind switch
    {
        HolderKind.ReadOnly => ["-r"],
        HolderKind.ReadWrite => [],
        _ => ["-U", "-r"],
    };

    internal static Qcow2OpenOptions OpenOptions(HolderKind kind) => kind switch
    {
        HolderKind.ReadOnly => new(),
        HolderKind.ReadWrite => new() { Writable = true },
        _ => new() { ForceShare = true },
    };

    private static string Ours(Probe probe, string image)
    {
        var result = ToolRunner.Run(Substitute(probe.Ours, image));
        if (result.ExitCode == 0)
            return "ok";
        var error = Outcome(ToolRunner.AssertSingleLineError(result, allowStdout: true), "qcow2: ", image);
        return probe.OpenIsEnough && !error.StartsWith("Could not open", StringComparison.Ordinal) ? "ok" : error;
    }

    private static string QemuImg(Probe probe, string image)
    {
        var result = Qemu.Img(Substitute(probe.Qemu, image));
        return result.ExitCode == 0 ? "ok" : Outcome(result.StandardError, "qemu-img: ", image);
    }

    private static string QemuIo(string[] probe, string image)
    {
        var result = Qemu.Io(["-f", "qcow2", .. Substitute(probe, image)]);
        // qemu-io reports a failed open on stderr, and exits 1.
        return result.ExitCode == 0 && result.StandardError.Length == 0 ? "ok" : Outcome(result.StandardError, "qemu-io: ", image);
    }

    private static string[] Substitute(string[] args, string image) => [.. args.Select(a => a == "IMG" ? image : a)];

    /// <summary>The error, without the program name, on one line (how our tool folds qemu-img's two lines), the path as IMG.</summary>
    internal static string Outcome(string stderr, string program, string image)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var text = string.Join(' ', lines);
        if (text.StartsWith(program, StringComparison.Ordinal))
            text = text[program.Length..];
        return text.Replace(image, "IMG", StringComparison.Ordinal);
    }
}
