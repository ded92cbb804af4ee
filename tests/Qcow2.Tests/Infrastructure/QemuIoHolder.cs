using System.Diagnostics;

namespace Qcow2.Tests.Infrastructure;

/// <summary>
/// A long-running <c>qemu-io</c> that keeps an image open (standing in for a running VM) until disposed. It reads commands
/// from a pipe that stays open, and is ready once it has answered a first read.
/// </summary>
public sealed class QemuIoHolder : IDisposable
{
    private readonly Process process;

    /// <param name="image">The image to hold.</param>
    /// <param name="options">qemu-io's open options: <c>-r</c>, <c>-U</c>, or none for read-write; <c>-f FMT</c> when not qcow2.</param>
    public QemuIoHolder(string image, params string[] options)
    {
        var start = new ProcessStartInfo(Qemu.IoPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var option in options)
            start.ArgumentList.Add(option);
        if (!options.Contains("-f"))
        {
            start.ArgumentList.Add("-f");
            start.ArgumentList.Add("qcow2");
        }
        start.ArgumentList.Add(image);
        process = Process.Start(start) ?? throw new InvalidOperationException("could not start qemu-io");
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            // qemu-io answers its first command only once the image is open, bitmaps marked in use and all.
            process.StandardInput.WriteLine("read 0 512");
            process.StandardInput.Flush();
            var reply = process.StandardOutput.ReadLineAsync();
            if (!reply.Wait(TimeSpan.FromSeconds(30)) || reply.Result is not { } line || !line.Contains("512/512", StringComparison.Ordinal))
                throw new InvalidOperationException($"qemu-io {string.Join(' ', options)} did not open the image: {(process.HasExited ? stderr.Result : "no answer")}");
            _ = process.StandardOutput.ReadToEndAsync();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        process.Dispose();
    }
}
