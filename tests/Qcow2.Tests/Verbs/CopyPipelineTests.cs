namespace Qcow2.Tests.Verbs;

/// <summary>
/// The copy reads ahead on another thread: a failed read comes out of <see cref="Qcow2Converter.Copy"/> as the exception
/// the source threw, a failed write names the guest byte, and neither leaves the reader running.
/// </summary>
public sealed class CopyPipelineTests
{
    [Fact]
    public void A_failed_read_comes_out_as_thrown()
    {
        using var source = new FailingStream(new byte[32 << 20], failReadsFrom: 9 << 20, failWritesFrom: long.MaxValue);
        using var target = new FailingStream(new byte[32 << 20], failReadsFrom: long.MaxValue, failWritesFrom: long.MaxValue);
        var e = Assert.Throws<IOException>(() =>
            Qcow2Converter.Copy(Qcow2VirtualDisk.FromRaw(source), Qcow2VirtualDisk.FromRaw(target), new Qcow2CopyOptions { SparseSize = 0 }));
        Assert.Equal("read failed", e.Message);
        // Everything before the failed chunk was copied, in order.
        Assert.True(target.HighestWrite >= 8 << 20, $"wrote up to {target.HighestWrite}");
    }

    [Fact]
    public void A_failed_write_names_the_byte_of_its_chunk()
    {
        using var source = new FailingStream(Enumerable.Repeat((byte)7, 32 << 20).ToArray(), failReadsFrom: long.MaxValue, failWritesFrom: long.MaxValue);
        using var target = new FailingStream(new byte[32 << 20], failReadsFrom: long.MaxValue, failWritesFrom: (5 << 20) + 100);
        var e = Assert.Throws<IOException>(() =>
            Qcow2Converter.Copy(Qcow2VirtualDisk.FromRaw(source), Qcow2VirtualDisk.FromRaw(target)));
        Assert.Equal("error while writing at byte 4194304: write failed", e.Message);
        Assert.Equal("write failed", e.InnerException!.Message);
    }

    [Fact]
    public void Cancellation_stops_the_copy()
    {
        using var source = new FailingStream(Enumerable.Repeat((byte)7, 32 << 20).ToArray(), failReadsFrom: long.MaxValue, failWritesFrom: long.MaxValue);
        using var target = new FailingStream(new byte[32 << 20], failReadsFrom: long.MaxValue, failWritesFrom: long.MaxValue);
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p > 0.2)
                cancel.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => Qcow2Converter.Copy(Qcow2VirtualDisk.FromRaw(source), Qcow2VirtualDisk.FromRaw(target),
            new Qcow2CopyOptions { Progress = progress, CancellationToken = cancel.Token }));
        Assert.True(target.HighestWrite < 32 << 20, "the copy went on after cancellation");
    }

    private sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

    /// <summary>A memory stream (not a file, so reads and writes go through its position) that fails past given offsets.</summary>
    private sealed class FailingStream(byte[] bytes, long failReadsFrom, long failWritesFrom) : MemoryStream(bytes)
    {
        public long HighestWrite { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            if (Position + buffer.Length > failReadsFrom)
                throw new IOException("read failed");
            return base.Read(buffer);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Position + buffer.Length > failWritesFrom)
                throw new IOException("write failed");
            HighestWrite = Math.Max(HighestWrite, Position + buffer.Length);
            base.Write(buffer);
        }
    }
}
