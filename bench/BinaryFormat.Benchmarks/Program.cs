using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;

// dotnet run -c Release --project bench/BinaryFormat.Benchmarks -- --filter '*'
// The default job here is short (3 launches x 15 iterations of 200 ms) but gives stable medians on a small, noisy
// machine; several launches matter because the JIT makes run-to-run (bimodal) code-quality decisions;
// any BenchmarkDotNet option (--job, --iterationCount, ...) still works on the command line.
// `-- --interleaved` instead runs a noise-tolerant A/B cross-check of generated vs hand-written (see Interleaved.cs).
if (args is ["--interleaved"])
{
    BinaryFormat.Benchmarks.Interleaved.Run();
    return;
}
if (args is ["--interleaved-png"])
{
    BinaryFormat.Benchmarks.Interleaved.RunPng();
    return;
}
if (args is ["--interleaved-gpt"])
{
    BinaryFormat.Benchmarks.Interleaved.RunGpt();
    return;
}

var job = Job.Default
    .WithLaunchCount(3)
    .WithWarmupCount(4)
    .WithIterationCount(15)
    .WithIterationTime(TimeInterval.FromMilliseconds(200));

// `--cpu-clock`: run in-process and time in thread CPU time (Linux), for machines shared with other work.
if (args.Contains("--cpu-clock"))
{
    args = args.Where(a => a != "--cpu-clock").ToArray();
    job = job
        .WithClock(BinaryFormat.Benchmarks.ThreadCpuClock.Instance)
        .WithToolchain(BenchmarkDotNet.Toolchains.InProcess.Emit.InProcessEmitToolchain.Instance)
        .WithLaunchCount(1)
        .WithIterationCount(30);
}

var config = DefaultConfig.Instance
    .AddJob(job.AsDefault())
    .WithOptions(ConfigOptions.JoinSummary);

BenchmarkSwitcher.FromAssembly(typeof(BinaryFormat.Benchmarks.HeaderBenchmarks).Assembly).Run(args, config);
