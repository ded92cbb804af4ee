using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.Bitmaps.BitmapTestSupport;

namespace Qcow2.Tests.Bitmaps;

/// <summary>A bitmap over a 1 TiB disk at 512-byte granularity is 256 MiB of bits: it must be streamed, never loaded whole.</summary>
public sealed class LargeBitmapTests
{
    private const long TiB = 1L << 40;
    private const long Budget = 16L << 20;

    [QemuFact]
    public void A_1TiB_bitmap_at_512_byte_granularity_is_dumped_and_merged_without_loading_it()
    {
        using var dir = new TempDir();
        var path = dir.File("big.qcow2");
        Create(path, "1T");
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            image.AddBitmap("fine", 512);
            Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, Budget);
            image.AddBitmap("coarse", 1 << 20);
            Assert.Equal(4096, image.Bitmaps[0].TableSize); // 256 MiB of bits in 64 KiB clusters
        }
        (long, long)[] writes = [(0, 4096), (500L << 30, 1 << 20), (TiB - 65536, 65536), (777_777_777_777L / 512 * 512, 512)];
        Write(path, writes);
        AssertQemuCheckClean(path);

        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var ranges = image.GetDirtyRanges("fine").ToList();
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(Text(Expected(512, TiB, writes)), Text(ranges));
            Assert.InRange(allocated, 0, Budget);

            before = GC.GetAllocatedBytesForCurrentThread();
            image.MergeBitmap("coarse", image, "fine");
            image.ClearBitmap("fine");
            Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, Budget);
            Assert.Equal(Text(Expected(1 << 20, TiB, writes)), Text(image.GetDirtyRanges("coarse")));
            Assert.Empty(image.GetDirtyRanges("fine"));
        }
        AssertQemuCheckClean(path);
    }
}
