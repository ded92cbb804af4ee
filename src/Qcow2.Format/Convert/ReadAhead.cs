using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Qcow2;

/// <summary>
/// Runs the reads of a sequence on another thread, a few items ahead of the caller, so that reading overlaps with what the
/// caller does with each item (writing it, comparing it). Items come out in order.
/// </summary>
internal static class ReadAhead
{
    /// <summary>
    /// The items, each after <paramref name="read"/> ran on it on a worker thread, at most <paramref name="depth"/> ahead of the
    /// caller. Items read but never handed out (the caller stopped, or failed) are passed to <paramref name="release"/>. An
    /// exception of <paramref name="read"/> comes out of the enumeration where the failed item would have.
    /// </summary>
    public static IEnumerable<T> Run<T>(IEnumerable<T> items, Action<T> read, Action<T> release, int depth, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var queue = new BlockingCollection<T>(depth);
        var worker = Task.Run(() =>
        {
            try
            {
                foreach (var item in items)
                {
                    read(item);
                    try
                    {
                        queue.Add(item, stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        release(item);
                        throw;
                    }
                }
            }
            finally
            {
                queue.CompleteAdding();
            }
        }, CancellationToken.None);
        var completed = false;
        try
        {
            foreach (var item in queue.GetConsumingEnumerable())
                yield return item;
            completed = true;
        }
        finally
        {
            if (!completed)
                stop.Cancel();
            try
            {
                worker.Wait(CancellationToken.None);
            }
            catch (AggregateException e)
            {
                // When the caller stopped first its exception is the one that matters; otherwise the worker's is rethrown as thrown.
                if (completed)
                    ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
            }
            foreach (var left in queue.GetConsumingEnumerable())
                release(left);
        }
    }
}
