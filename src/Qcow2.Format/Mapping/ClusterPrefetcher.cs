using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Qcow2;

/// <summary>
/// Reads cluster-sized tables listed in processing order on a second thread, a few runs ahead of the caller, so that the
/// kernel's part of the reads overlaps the caller's work on the tables already read. Runs of tables that lie back to back
/// are fetched with one read, as by <see cref="ClusterRunReader"/>; what the caller sees, and in which order, is the same.
/// Only for storage that allows concurrent reads, and only while nothing writes the tables.
/// </summary>
internal sealed class ClusterPrefetcher : IDisposable
{
    private const int MaxRunBytes = 1 << 20;
    /// <summary>Runs read ahead: with the one in use, at most 4 MiB held, as much as one <see cref="ClusterRunReader"/>.</summary>
    private const int Depth = 3;

    private readonly int clusterSize;
    private readonly BlockingCollection<Run> ready = new(Depth);
    private readonly CancellationTokenSource stop = new();
    private readonly Task producer;
    private Run current;

    /// <param name="storage">Storage whose reads may run on another thread.</param>
    /// <param name="clusterSize">The size of one table.</param>
    /// <param name="offsets">The tables in processing order; 0 where there is none to read.</param>
    public ClusterPrefetcher(IImageStorage storage, int clusterSize, ulong[] offsets)
    {
        this.clusterSize = clusterSize;
        current = new Run(-1, 0, [], null);
        producer = Task.Run(() => Produce(storage, offsets));
    }

    /// <summary>The table at <c>offsets[index]</c> (non-zero, cluster-aligned); indexes must come in increasing order.</summary>
    public Span<byte> Get(int index)
    {
        while (index >= current.FirstIndex + current.Count)
        {
            Release(current);
            current = ready.Take();
            current.Error?.Throw();
        }
        if (index < current.FirstIndex)
            throw new InvalidOperationException("tables must be asked for in increasing order");
        // Within a run the tables lie back to back, so index i of the run is cluster i of the buffer.
        return current.Buffer.AsSpan((index - current.FirstIndex) * clusterSize, clusterSize);
    }

    public void Dispose()
    {
        stop.Cancel();
        try
        {
            producer.Wait();
        }
        catch (AggregateException)
        {
            // Cancelled, or failed with an error the caller no longer needs.
        }
        Release(current);
        while (ready.TryTake(out var run))
            Release(run);
        ready.Dispose();
        stop.Dispose();
    }

    private void Produce(IImageStorage storage, ulong[] offsets)
    {
        var maxRun = Math.Max(1, MaxRunBytes / clusterSize);
        try
        {
            for (var i = 0; i < offsets.Length;)
            {
                if (offsets[i] == 0)
                {
                    i++;
                    continue;
                }
                var run = 1;
                while (run < maxRun && i + run < offsets.Length && offsets[i + run] == offsets[i] + (ulong)run * (ulong)clusterSize)
                    run++;
                var buffer = ArrayPool<byte>.Shared.Rent(run * clusterSize);
                try
                {
                    storage.Read((long)offsets[i], buffer.AsSpan(0, run * clusterSize));
                    ready.Add(new Run(i, run, buffer, null), stop.Token);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw;
                }
                i += run;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            ready.Add(new Run(int.MaxValue / 2, 1, [], ExceptionDispatchInfo.Capture(e)), stop.Token);
        }
        finally
        {
            ready.CompleteAdding();
        }
    }

    private static void Release(Run run)
    {
        if (run.Buffer.Length != 0)
            ArrayPool<byte>.Shared.Return(run.Buffer);
    }

    private readonly record struct Run(int FirstIndex, int Count, byte[] Buffer, ExceptionDispatchInfo? Error);
}
