using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Qcow2;

/// <summary>
/// Reads cluster-sized tables listed in processing order on a second thread, a few runs ahead of the caller, so that the
/// kernel's part of the reads overlaps the caller's work on the tables already read. Runs of tables that lie back to back
/// are fetched with one read, as by <see cref="ClusterRunReader"/>; what the caller sees, and in which order, is the same.
/// A fixed set of buffers circulates between the two threads, so memory stays at 1 MiB (two clusters for clusters of 1 MiB
/// or more). Only for storage that allows concurrent reads, and only while nothing writes the tables.
/// </summary>
internal sealed class ClusterPrefetcher : IDisposable
{
    /// <summary>Large enough to make a read of adjacent tables cheap per byte, small enough that the buffers stay small.</summary>
    private const int MaxRunBytes = 256 << 10;

    private readonly int clusterSize;
    private readonly int bufferBytes;
    private readonly BlockingCollection<Run> ready;
    private readonly BlockingCollection<byte[]> free;
    private readonly CancellationTokenSource stop = new();
    private readonly byte[][] buffers;
    private readonly Thread producer;
    private Run current = new(-1, 0, null, null);

    /// <param name="storage">Storage whose reads may run on another thread.</param>
    /// <param name="clusterSize">The size of one table.</param>
    /// <param name="offsets">The tables in processing order; 0 where there is none to read.</param>
    public ClusterPrefetcher(IImageStorage storage, int clusterSize, ulong[] offsets)
    {
        this.clusterSize = clusterSize;
        bufferBytes = Math.Max(MaxRunBytes, clusterSize);
        // Pooled, so that the passes of one check, one after the other, use the same buffers.
        buffers = new byte[bufferBytes > MaxRunBytes ? 2 : 4][];
        ready = new BlockingCollection<Run>(buffers.Length);
        free = new BlockingCollection<byte[]>(buffers.Length);
        for (var i = 0; i < buffers.Length; i++)
            free.Add(buffers[i] = ArrayPool<byte>.Shared.Rent(bufferBytes));
        // A thread of its own with a small stack: the thread pool would start more threads than the one needed.
        producer = new Thread(() => Produce(storage, offsets), maxStackSize: 256 << 10) { IsBackground = true, Name = "qcow2 table reader" };
        producer.Start();
    }

    /// <summary>The table at <c>offsets[index]</c> (non-zero, cluster-aligned); indexes must come in increasing order.</summary>
    public Span<byte> Get(int index)
    {
        while (index >= current.FirstIndex + current.Count)
        {
            if (current.Buffer is { } used)
                free.Add(used);
            current = ready.Take();
            current.Error?.Throw();
        }
        if (index < current.FirstIndex)
            throw new InvalidOperationException("Tables must be asked for in increasing order.");
        // Within a run the tables lie back to back, so table i of the run is cluster i of the buffer.
        return current.Buffer.AsSpan((index - current.FirstIndex) * clusterSize, clusterSize);
    }

    public void Dispose()
    {
        stop.Cancel();
        producer.Join();
        foreach (var buffer in buffers)
            ArrayPool<byte>.Shared.Return(buffer);
        ready.Dispose();
        free.Dispose();
        stop.Dispose();
    }

    private void Produce(IImageStorage storage, ulong[] offsets)
    {
        var maxRun = bufferBytes / clusterSize;
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
                var buffer = free.Take(stop.Token);
                storage.Read((long)offsets[i], buffer.AsSpan(0, run * clusterSize));
                ready.Add(new Run(i, run, buffer, null), stop.Token);
                i += run;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // Handed to the caller at its next table (an index no table has, so that it is taken); nothing may escape a thread.
            try
            {
                ready.Add(new Run(int.MaxValue / 2, 1, null, ExceptionDispatchInfo.Capture(e)), stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
        finally
        {
            ready.CompleteAdding();
        }
    }

    private readonly record struct Run(int FirstIndex, int Count, byte[]? Buffer, ExceptionDispatchInfo? Error);
}
