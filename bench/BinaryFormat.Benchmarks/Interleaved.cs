using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BinaryFormat.Benchmarks;

/// <summary>
/// A noise-tolerant cross-check of the BenchmarkDotNet ratios for shared, busy machines: the hand-written and the
/// generated code run in alternating short rounds, so both see the same background load, and the median of the
/// per-round ratios is reported. On Linux each round is timed in CPU time of the measuring thread
/// (CLOCK_THREAD_CPUTIME_ID), which leaves out the time the thread waits while other processes run.
/// Run with <c>-- --interleaved</c>.
/// </summary>
public static class Interleaved
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec time);

    private const int ThreadCpuTimeClock = 3; // CLOCK_THREAD_CPUTIME_ID

    private static readonly bool UseThreadCpuTime = OperatingSystem.IsLinux() && ClockGetTime(ThreadCpuTimeClock, out _) == 0;

    private static double NowNanoseconds()
    {
        if (UseThreadCpuTime)
        {
            ClockGetTime(ThreadCpuTimeClock, out var t);
            return t.Seconds * 1e9 + t.Nanoseconds;
        }
        return Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency);
    }

    public static void Run(int rounds = 200, int iterations = 200_000)
    {
        var b = new HeaderBenchmarks();
        b.Setup();
        var pairs = new (string Name, Func<HeaderBenchmarks, int, long> Baseline, Func<HeaderBenchmarks, int, long> Candidate)[]
        {
            ("Read", static (x, n) => Loop(x.ReadHandWritten, n), static (x, n) => Loop(x.ReadGenerated, n)),
            ("Read (generated ReadUnchecked, no validation)", static (x, n) => Loop(x.ReadHandWritten, n), static (x, n) => Loop(x.ReadUncheckedGenerated, n)),
            ("Write", static (x, n) => Loop(x.WriteHandWritten, n), static (x, n) => Loop(x.WriteGenerated, n)),
        };
        Report(b, pairs, rounds, iterations);
    }

    /// <summary>The same cross-check for the GPT header plus 128 entries, with both CRCs (<see cref="GptBenchmarks"/>).</summary>
    public static void RunGpt(int rounds = 100, int iterations = 2_000)
    {
        var b = new GptBenchmarks();
        b.Setup();
        var pairs = new (string Name, Func<GptBenchmarks, int, long> Baseline, Func<GptBenchmarks, int, long> Candidate)[]
        {
            ("GPT read (header + 128 entries as views, both CRCs)", static (x, n) => Loop(x.ReadHandWritten, n), static (x, n) => Loop(x.ReadGenerated, n)),
            ("GPT read (header + 128 entries with Records<T>, both CRCs)", static (x, n) => Loop(x.ReadHandWritten, n), static (x, n) => Loop(x.ReadGeneratedRecords, n)),
            ("GPT write (128 entries + header, both CRCs)", static (x, n) => Loop(() => (ulong)x.WriteHandWritten(), n), static (x, n) => Loop(() => (ulong)x.WriteGenerated(), n)),
        };
        // After warming up (the thread's CRC-32 state is created once, the JIT tiers up), the span path must allocate nothing.
        for (var i = 0; i < 20_000; i++)
        {
            b.ReadGenerated();
            b.WriteGenerated();
        }
        Console.WriteLine($"(generated read + write allocate {Allocated(() => { b.ReadGenerated(); b.WriteGenerated(); })} bytes per call)");
        Report(b, pairs, rounds, iterations);
    }

    /// <summary>The same cross-check for the PNG chunk walk with CRC checks (<see cref="PngBenchmarks"/>).</summary>
    public static void RunPng(int rounds = 100, int iterations = 20_000)
    {
        var b = new PngBenchmarks();
        b.Setup();
        var pairs = new (string Name, Func<PngBenchmarks, int, long> Baseline, Func<PngBenchmarks, int, long> Candidate)[]
        {
            ("PNG chunk walk, span path (chunk heads + IHDR declared, CRCs)", static (x, n) => Loop(x.WalkHandWritten, n), static (x, n) => Loop(x.WalkGeneratedSpan, n)),
            ("PNG chunk walk, whole file as a view (PngFile.View)", static (x, n) => Loop(x.WalkHandWritten, n), static (x, n) => Loop(x.WalkGeneratedView, n)),
            ("PNG chunk walk, whole file declared (PngFile.Read)", static (x, n) => Loop(x.WalkHandWritten, n), static (x, n) => Loop(x.WalkGeneratedDeclared, n)),
        };
        for (var i = 0; i < 20_000; i++)
        {
            b.WalkGeneratedSpan();
            b.WalkGeneratedView();
            b.WalkGeneratedDeclared();
        }
        Console.WriteLine($"(span path allocates {Allocated(() => b.WalkGeneratedSpan())} bytes per walk; whole file as a view: {Allocated(() => b.WalkGeneratedView())}; whole file declared: {Allocated(() => b.WalkGeneratedDeclared())})");
        Report(b, pairs, rounds, iterations);
    }

    private static double Allocated(Action walk)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
            walk();
        return (GC.GetAllocatedBytesForCurrentThread() - before) / 1_000.0;
    }

    private static void Report<T>(T b, (string Name, Func<T, int, long> Baseline, Func<T, int, long> Candidate)[] pairs, int rounds, int iterations)
    {
        Console.WriteLine(UseThreadCpuTime ? "(timed in thread CPU time)" : "(timed in wall-clock time)");
        Console.WriteLine("| Operation | HandWritten median (ns) | Generated median (ns) | Median ratio (per round) | Rounds |");
        Console.WriteLine("|-----------|------------------------:|----------------------:|-------------------------:|-------:|");
        foreach (var (name, baseline, candidate) in pairs)
        {
            // Warm up for a while, so tiered compilation has finished with both before measuring.
            var warmUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 2;
            while (Stopwatch.GetTimestamp() < warmUntil)
            {
                baseline(b, iterations);
                candidate(b, iterations);
            }
            var baseNs = new List<double>();
            var candNs = new List<double>();
            var ratios = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                // Alternate which goes first, so neither always runs right after a GC or a context switch.
                double x, y;
                if (round % 2 == 0) { x = Time(baseline, b, iterations); y = Time(candidate, b, iterations); }
                else { y = Time(candidate, b, iterations); x = Time(baseline, b, iterations); }
                baseNs.Add(x);
                candNs.Add(y);
                ratios.Add(y / x);
            }
            Console.WriteLine($"| {name} | {Median(baseNs):F2} | {Median(candNs):F2} | {Median(ratios):F3} | {rounds} |");
        }
    }

    private static double Time<T>(Func<T, int, long> body, T b, int iterations)
    {
        double start = NowNanoseconds();
        body(b, iterations);
        return (NowNanoseconds() - start) / iterations;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Loop(Func<ulong> body, int n)
    {
        ulong sum = 0;
        for (int i = 0; i < n; i++) sum += body();
        return (long)sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Loop(Func<byte> body, int n)
    {
        long sum = 0;
        for (int i = 0; i < n; i++) sum += body();
        return sum;
    }
}
