using Qcow2.Tool;

namespace Qcow2.Tests.Hostile;

/// <summary>
/// Everything a hostile image is run through, by the seeded mutation test and by the AFL++ target in fuzz/Qcow2.Fuzz
/// (which compiles this file in). Each operation gets its own copy of the image at <c>path</c> and may change it.
/// An operation succeeds by returning or by throwing <see cref="Qcow2FormatException"/>; anything else it throws is a bug.
/// Adding an operation (resize, bitmap editing…) is one line in <see cref="All"/>.
/// </summary>
public static class HostileOperations
{
    public sealed record Operation(string Name, Action<string> Run);

    public static readonly IReadOnlyList<Operation> All =
    [
        new("open", path => Touch(Qcow2Image.Open(path))),
        new("open-writable", path => Touch(Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))),
        new("open-forcheck", path => Touch(Qcow2Image.Open(path, new Qcow2OpenOptions { ForCheck = true }))),
        new("check", path => Check(path, Qcow2CheckRepair.None)),
        new("check-leaks", path => Check(path, Qcow2CheckRepair.Leaks)),
        new("check-all", path => Check(path, Qcow2CheckRepair.All)),
        new("tool-info", path => Tool("info", path)),
        new("tool-info-json", path => Tool("info", "--output=json", path)),
        new("tool-check", path => Tool("check", path)),
        new("tool-check-r-all", path => Tool("check", "-r", "all", path)),
        new("resize-grow", path => Writable(path, image => ResizeTo(image, image.VirtualSize + (1 << 20)))),
        new("resize-shrink", path => Writable(path, image => ResizeTo(image, image.VirtualSize / 2 & ~511L))),
        new("bitmap-add", path => Writable(path, image => image.AddBitmap("hostile"))),
        new("bitmap-dump", path => Writable(path, image =>
        {
            foreach (var bitmap in image.Bitmaps.Where(b => b.IsConsistent))
                _ = image.GetDirtyRanges(bitmap.Name).Count();
        })),
        new("guest-read", GuestRead),
        new("guest-write", GuestWrite),
        new("bitmap-clear-remove", path => Writable(path, image =>
        {
            if (image.Bitmaps.FirstOrDefault() is not { } bitmap)
                return;
            if (bitmap.IsConsistent)
                image.ClearBitmap(bitmap.Name);
            image.RemoveBitmap(bitmap.Name);
        })),
    ];

    private static void Writable(string path, Action<Qcow2Image> change)
    {
        using var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true });
        change(image);
    }

    /// <summary>
    /// Guest reads and the allocation at the start, the middle and the end of the disk (bounded, whatever the virtual size
    /// claims). A backing or data file that is not opened, or encryption, is a refusal the caller can act on, not a bug.
    /// </summary>
    private static void GuestRead(string path)
    {
        using var image = Qcow2Image.Open(path);
        var size = image.VirtualSize;
        var buffer = new byte[Math.Min(size, 256 << 10)];
        try
        {
            foreach (var offset in new[] { 0, Math.Min(size / 2 & ~511L, size - buffer.Length), size - buffer.Length })
            {
                _ = image.GetAllocation(offset, buffer.Length).Take(64).Count();
                image.Read(offset, buffer);
            }
        }
        catch (Exception e) when (e is NotSupportedException || (e is InvalidOperationException && e.Message.Contains("opened only when asked", StringComparison.Ordinal)))
        {
        }
    }

    /// <summary>
    /// Guest writes, zero-writes and discards at the start, the middle and the end of the disk, then a flush: the write
    /// path's allocation, copy-on-write and refcount updates meet whatever the hostile tables claim.
    /// </summary>
    private static void GuestWrite(string path)
    {
        using var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true });
        var size = image.VirtualSize;
        var data = new byte[(int)Math.Min(size, 96 << 10)];
        Array.Fill(data, (byte)0x5A);
        try
        {
            foreach (var offset in new[] { 0, Math.Min(size / 2 & ~511L, size - data.Length), size - data.Length })
            {
                // Unaligned by 512 bytes where the disk allows it, so copy-on-write of partial clusters runs too.
                var start = Math.Min(offset + 512, size - data.Length);
                image.Write(start, data);
                image.WriteZeroes(offset, data.Length / 2);
                image.Discard(offset + data.Length / 2, data.Length / 2);
            }
            image.Flush();
        }
        catch (Exception e) when (e is NotSupportedException || (e is InvalidOperationException && e.Message.Contains("opened only when asked", StringComparison.Ordinal)))
        {
        }
    }

    /// <summary>Reads every public property, as a caller listing the image would.</summary>
    private static void Touch(Qcow2Image image)
    {
        using (image)
        {
            _ = image.VirtualSize + image.ClusterSize + image.RefcountBits + image.FileLength;
            _ = (image.BackingFileName, image.BackingFormat, image.DataFileName, image.CompressionType, image.EncryptionMethod);
            foreach (var bitmap in image.Bitmaps)
                _ = bitmap.ToString();
            foreach (var snapshot in image.Snapshots)
                _ = snapshot.ToString();
            foreach (var extension in image.Extensions)
                _ = extension.ToString();
            _ = image.Warnings.Count;
        }
    }

    private static void Check(string path, Qcow2CheckRepair repair)
    {
        using var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = repair != Qcow2CheckRepair.None, ForCheck = true });
        var result = image.Check(new Qcow2CheckOptions { Repair = repair });
        if (result.ExitCode() is < 0 or > 3)
            throw new HostileOperationException($"Check returned exit code {result.ExitCode()}");
    }

    /// <summary>The tool must exit 0–3 and, when it fails, say so in one <c>qcow2: </c> line without a stack trace.</summary>
    private static void Tool(params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        var exit = Cli.Run(args, stdout, stderr);
        var errors = stderr.ToString();
        // Warnings ("qcow2: warning: …", as qemu-img prints them) may come before the result; the failure itself is one line.
        var toolLines = errors.Split('\n')
            .Where(line => line.StartsWith("qcow2: ", StringComparison.Ordinal) && !line.StartsWith("qcow2: warning: ", StringComparison.Ordinal)).ToList();
        if (exit is < 0 or > 3)
            throw new HostileOperationException($"qcow2 {string.Join(' ', args[..^1])} exited {exit}: {errors}");
        if (toolLines.Count > 1 || errors.Contains("   at ", StringComparison.Ordinal) || errors.Contains("internal error", StringComparison.Ordinal))
            throw new HostileOperationException($"qcow2 {string.Join(' ', args[..^1])} failed badly: {errors}");
        if (exit == 1 && toolLines.Count != 1)
            throw new HostileOperationException($"qcow2 {string.Join(' ', args[..^1])} exited 1 without a 'qcow2: ' line: {errors}");
        // A well-formed refusal by the tool counts as the library's refusal would.
        if (exit == 1)
            throw new Qcow2FormatException(toolLines[0]);
    }

    /// <summary>
    /// A size derived from a hostile header may be no valid request at all (0, or past QEMU's limits). The library refuses
    /// such an argument as the caller's mistake (an ArgumentException for newSize), which says nothing about the image.
    /// </summary>
    private static void ResizeTo(Qcow2Image image, long size)
    {
        try
        {
            image.Resize(size, new Qcow2ResizeOptions { AllowShrink = true });
        }
        catch (ArgumentException e) when (e.ParamName == "newSize")
        {
        }
    }

    /// <summary>Runs <paramref name="operation"/> on <paramref name="path"/>; returns whether the image was refused, throws on a bug.</summary>
    public static bool RunOne(Operation operation, string path)
    {
        try
        {
            operation.Run(path);
            return false;
        }
        catch (Qcow2FormatException)
        {
            return true;
        }
    }
}

/// <summary>An operation misbehaved on a hostile image in a way that is not an exception escaping from the library.</summary>
public sealed class HostileOperationException(string message) : Exception(message);
