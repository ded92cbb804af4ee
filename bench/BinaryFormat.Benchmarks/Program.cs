using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;

// dotnet run -c Release --project bench/BinaryFormat.Benchmarks -- --filter '*'
// The default job here is short but has enough iterations to give stable medians on a small, noisy machine;
// any BenchmarkDotNet option (--job, --iterationCount, ...) still works on the command line.
// `-- --interleaved` instead runs a noise-tolerant A/B cross-check of generated vs hand-written (see Interleaved.cs).
if (args is ["--interleaved"])
{
    BinaryFormat.Benchmarks.Interleaved.Run();
    return;
}

var job = Job.Default
    .WithLaunchCount(1)
    .WithWarmupCount(4)
    .WithIterationCount(20)
    .WithIterationTime(TimeInterval.FromMilliseconds(200));

var config = DefaultConfig.Instance
    .AddJob(job.AsDefault())
    .WithOptions(ConfigOptions.JoinSummary);

BenchmarkSwitcher.FromAssembly(typeof(BinaryFormat.Benchmarks.HeaderBenchmarks).Assembly).Run(args, config);
