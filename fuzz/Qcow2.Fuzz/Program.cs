using Qcow2.Tests.Hostile;
using SharpFuzz;

namespace Qcow2.Fuzz;

/// <summary>
/// AFL++ target: the input is an image file; every hostile operation runs on its own copy. A <see cref="Qcow2FormatException"/>
/// is a correct refusal; any other exception escapes and AFL++ records a crash; a hang is an AFL++ timeout.
/// With a file argument it runs that one input in-process (to replay a crash: dotnet run -- crash-file).
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        // AFL++ kills hung targets, so no cleanup code runs: name the scratch file by process id and sweep dead ones at start.
        var scratch = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        foreach (var stale in Directory.GetFiles(scratch, "qcow2-fuzz-*"))
        {
            if (int.TryParse(Path.GetFileName(stale)["qcow2-fuzz-".Length..], out var pid) && !Directory.Exists($"/proc/{pid}"))
                File.Delete(stale);
        }
        var copy = Path.Combine(scratch, $"qcow2-fuzz-{Environment.ProcessId}");
        try
        {
            if (args.Length > 0)
            {
                foreach (var file in args)
                    RunAll(File.ReadAllBytes(file), copy, verbose: true);
                return;
            }
            Fuzzer.OutOfProcess.Run(stream =>
            {
                using var memory = new MemoryStream();
                stream.CopyTo(memory);
                RunAll(memory.ToArray(), copy, verbose: false);
            });
        }
        finally
        {
            File.Delete(copy);
        }
    }

    private static void RunAll(byte[] input, string copy, bool verbose)
    {
        foreach (var operation in HostileOperations.All)
        {
            File.WriteAllBytes(copy, input);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var refused = HostileOperations.RunOne(operation, copy);
            if (verbose)
                Console.WriteLine($"{operation.Name}: {(refused ? "refused" : "ok")} in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms");
        }
    }
}
