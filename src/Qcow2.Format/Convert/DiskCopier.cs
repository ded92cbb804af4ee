using System.Buffers;
using System.Runtime.InteropServices;

namespace Qcow2;

/// <summary>
/// Copies ranges of guest data from one disk to another in large blocks, following the source's allocation: zeros the
/// target already reads are skipped, so the target stays sparse; with <see cref="Qcow2CopyOptions.OnlyDifferences"/> a block
/// equal to what the target reads is skipped too. While one block is written the next ones are read on another thread
/// (unless the two disks share an image), and blocks are written in guest order, so that a qcow2 target allocates its clusters
/// in order; small blocks go a group at a time, and a qcow2 target allocates a group's new clusters together.
/// </summary>
internal sealed class DiskCopier
{
    private const int ChunkSize = 2 << 20;

    // The longest range of zeros made zero with one call.
    private const long MaxZeroPiece = 1L << 30;

    // Blocks read ahead of the writer: enough to keep both threads busy, few enough to bound the memory (4 x 2 MiB).
    private const int ReadAheadDepth = 4;

    private readonly Qcow2VirtualDisk source;
    private readonly Qcow2VirtualDisk target;
    private readonly Qcow2CopyOptions options;
    private readonly int block;
    private readonly int chunk;
    private readonly bool unmapZeros;

    // Data waiting to be written, from the pieces of one group, and the guest byte of the first one's chunk.
    private readonly List<(long Offset, ReadOnlyMemory<byte> Data)> batch = [];
    private long batchStart;

    // unmapZeros: zeros free the target's whole host clusters (QEMU's commit job writes zeros that way).
    public DiskCopier(Qcow2VirtualDisk source, Qcow2VirtualDisk target, Qcow2CopyOptions options, bool unmapZeros = false)
    {
        this.source = source;
        this.target = target;
        this.options = options;
        this.unmapZeros = unmapZeros;
        // The unit of zero detection: a qcow2 target allocates whole clusters (subclusters with extended L2, whose unwritten
        // parts stay holes in the file), a raw one is sparse at -S granularity.
        var sparse = (int)Math.Clamp(options.SparseSize, 0, 1 << 30);
        var cluster = target.Image is { } image ? image.ClusterSize >> (image.ExtendedL2 ? 5 : 0) : 512;
        block = sparse == 0 ? 0 : Math.Max(cluster, (sparse + cluster - 1) / cluster * cluster);
        chunk = Math.Max(ChunkSize, block);
    }

    /// <summary>Copies the ranges (sorted, not overlapping) and reports progress over their total length.</summary>
    /// <exception cref="IOException">A write failed: the message names the guest byte, as qemu-img's does.</exception>
    public void Copy(IReadOnlyCollection<Qcow2GuestRange> ranges)
    {
        var total = Math.Max(1, ranges.Sum(r => r.Length));
        var done = 0L;
        var current = options.OnlyDifferences ? ArrayPool<byte>.Shared.Rent(chunk) : null;
        try
        {
            var groups = source.IsIndependentOf(target)
                ? ReadAhead.Run(Groups(ranges), ReadGroup, ReleaseGroup, ReadAheadDepth, options.CancellationToken)
                : Groups(ranges).Select(group => { ReadGroup(group); return group; });
            foreach (var group in groups)
            {
                try
                {
                    foreach (var piece in group)
                    {
                        options.CancellationToken.ThrowIfCancellationRequested();
                        if (!piece.IsData)
                            WriteBatch();
                        try
                        {
                            if (piece.IsData)
                                WriteData(piece, current);
                            else
                                MakeZero(piece.Start, piece.Length);
                        }
                        catch (Exception e) when (e is IOException or ArgumentException)
                        {
                            throw WriteError(piece.Start, e);
                        }
                    }
                    WriteBatch();
                }
                finally
                {
                    batch.Clear();
                    ReleaseGroup(group);
                }
                done += group.Sum(piece => (long)piece.Length);
                options.Progress?.Report((double)done / total);
            }
        }
        finally
        {
            if (current is not null)
                ArrayPool<byte>.Shared.Return(current);
        }
    }

    /// <summary>
    /// The pieces of <see cref="Plan"/>, grouped: as many small pieces in one group as fill a chunk, so that the ranges of a
    /// backup cost one hand-over between the threads and one batch of writes per chunk, not per range.
    /// </summary>
    private IEnumerable<List<GuestChunk>> Groups(IReadOnlyCollection<Qcow2GuestRange> ranges)
    {
        var group = new List<GuestChunk>();
        var (groupData, groupLength) = (0L, 0L);
        foreach (var piece in Plan(ranges))
        {
            var data = piece.IsData ? piece.Length : 0;
            // Zeros are not read, but progress is reported per group: a group covers at most a gigabyte of guest data.
            if (group.Count > 0 && (groupData + data > chunk || groupLength + piece.Length > MaxZeroPiece))
            {
                yield return group;
                (group, groupData, groupLength) = ([], 0, 0);
            }
            group.Add(piece);
            groupData += data;
            groupLength += piece.Length;
        }
        if (group.Count > 0)
            yield return group;
    }

    /// <summary>The pieces in guest order: data in blocks of at most one chunk, aligned to the zero-detection unit.</summary>
    private IEnumerable<GuestChunk> Plan(IReadOnlyCollection<Qcow2GuestRange> ranges)
    {
        var unit = Math.Max(block, 1);
        foreach (var range in ranges)
        {
            foreach (var extent in source.GetAllocation(range.Start, range.Length))
            {
                for (var offset = extent.Start; offset < extent.End;)
                {
                    var end = extent.Kind == Qcow2ExtentKind.Data ? Math.Min(extent.End, (offset / unit * unit) + chunk) : Math.Min(extent.End, offset + MaxZeroPiece);
                    yield return new GuestChunk(offset, (int)(end - offset), extent.Kind == Qcow2ExtentKind.Data);
                    offset = end;
                }
            }
        }
    }

    private void ReadGroup(List<GuestChunk> group)
    {
        try
        {
            foreach (var piece in group)
                piece.ReadFrom(source);
        }
        catch
        {
            ReleaseGroup(group);
            throw;
        }
    }

    private static void ReleaseGroup(List<GuestChunk> group)
    {
        foreach (var piece in group)
            piece.Release();
    }

    /// <summary>Adds the piece's data to the batch, but for blocks of zeros (made zero now) and blocks the target holds already.</summary>
    private void WriteData(GuestChunk piece, byte[]? current)
    {
        var (offset, data, length) = (piece.Start, piece.Memory, piece.Length);
        if (current is not null)
            target.Read(offset, current.AsSpan(0, length));
        var pendingStart = -1;
        for (var at = 0; at < length;)
        {
            var blockEnd = block == 0 ? length : (int)Math.Min(length, ((offset + at) / block + 1) * block - offset);
            var part = data.Span[at..blockEnd];
            var done = current is not null && part.SequenceEqual(current.AsSpan(at, part.Length));
            if (!done && block != 0 && !part.ContainsAnyExcept((byte)0))
            {
                MakeZero(offset + at, part.Length);
                done = true;
            }
            if (done)
                AddToBatch(piece, ref pendingStart, at);
            else if (pendingStart < 0)
                pendingStart = at;
            at = blockEnd;
        }
        AddToBatch(piece, ref pendingStart, length);
    }

    private void AddToBatch(GuestChunk piece, ref int pendingStart, int end)
    {
        if (pendingStart < 0)
            return;
        if (batch.Count == 0)
            batchStart = piece.Start;
        batch.Add((piece.Start + pendingStart, piece.Memory[pendingStart..end]));
        pendingStart = -1;
    }

    /// <summary>Writes the batch with one call (a qcow2 target allocates for all of it at once); a failure names the first chunk's byte.</summary>
    private void WriteBatch()
    {
        if (batch.Count == 0)
            return;
        try
        {
            target.WriteRanges(batch);
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            throw WriteError(batchStart, e);
        }
        finally
        {
            batch.Clear();
        }
    }

    private static IOException WriteError(long offset, Exception e) => new($"error while writing at byte {offset}: {ReasonOf(e)}", e);

    /// <summary>
    /// Makes the range read as zeros in the target unless it does already. A qcow2 target gets zeros only where it reads data
    /// (say, the rest of a cluster a partial data block was just written to), so that clusters it reads as zeros stay as they
    /// are, as qemu-img convert leaves them; zeros that unmap (commit) cover the whole range, as QEMU's commit job writes them.
    /// </summary>
    private void MakeZero(long offset, long length)
    {
        if (target.ReadsZero(offset, length))
            return;
        if (target.Image is not { } image || unmapZeros)
        {
            target.WriteZeroes(offset, length, unmapZeros);
            return;
        }
        foreach (var extent in image.GetAllocation(offset, length).Where(e => e.Kind == Qcow2ExtentKind.Data).ToList())
            target.WriteZeroes(extent.Start, extent.Length);
    }

    /// <summary>The system's words for a failed write (<c>strerror</c>), as qemu-img prints them.</summary>
    private static string ReasonOf(Exception e) => e switch
    {
        // .NET reports EFBIG (past RLIMIT_FSIZE or the file system's largest file) as an argument error.
        ArgumentException or IOException { InnerException: ArgumentException } => "File too large",
        IOException { HResult: > 0 and < 4096 } io => Marshal.GetPInvokeErrorMessage(io.HResult),
        _ => e.Message,
    };
}
