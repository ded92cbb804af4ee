using System.Runtime.InteropServices;
using Perfolizer.Horology;

namespace BinaryFormat.Benchmarks;

/// <summary>
/// A BenchmarkDotNet clock that reads the CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID), so that
/// time the benchmark thread spends descheduled while other processes run is not counted. Used with the in-process
/// toolchain, where the benchmark runs on the thread that reads the clock. Select with <c>--cpu-clock</c>.
/// </summary>
public sealed class ThreadCpuClock : IClock
{
    public static readonly ThreadCpuClock Instance = new();

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec time);

    private const int ThreadCpuTimeClock = 3; // CLOCK_THREAD_CPUTIME_ID

    public string Title => "ThreadCpuTime";

    public bool IsAvailable => OperatingSystem.IsLinux() && ClockGetTime(ThreadCpuTimeClock, out _) == 0;

    public Frequency Frequency => Frequency.GHz;

    public long GetTimestamp()
    {
        ClockGetTime(ThreadCpuTimeClock, out var time);
        return time.Seconds * 1_000_000_000 + time.Nanoseconds;
    }
}
