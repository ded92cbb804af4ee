using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace BinaryFormat.Benchmarks;

/// <summary>
/// A noise-tolerant cross-check of the BenchmarkDotNet ratios for shared, busy machines: the hand-written and the
/// generated code run in alternating short rounds, so both see the same background load, and the median of the
/// per-round ratios is reported. Run with <c>-- --interleaved</c>.
/// </summary>
public static class Interleaved
{
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

    private static double Time(Func<HeaderBenchmarks, int, long> body, HeaderBenchmarks b, int iterations)
    {
        long start = Stopwatch.GetTimestamp();
        body(b, iterations);
        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / iterations;
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
