using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Snapshots;

/// <summary>
/// Guest writes through <see cref="Qcow2Image.Write(long, ReadOnlySpan{byte})"/> right after each snapshot operation, in the
/// same open image (so state cached by earlier writes must not survive the operation): they must copy on write, leaving
/// every snapshot reading as it was taken, checked through qemu-img snapshot -a on a copy and qemu-io.
/// </summary>
public sealed class SnapshotGuestWriteTests
{
    private const long Size = 2L << 20;

    [QemuFact]
    public void Writes_after_create_apply_and_delete_copy_on_write()
    {
        using var dir = new TempDir();
        var path = dir.File("image.qcow2");
        var scratch = dir.File("scratch.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", path, "2M").EnsureSuccess("create");
        var model = new DiskModel(Size);

        void Step(string what, Action<Qcow2Image> operation, Action<DiskModel> modelled, int pattern, long offset, long length)
        {
            using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
            {
                // A write before the operation fills the image's cached guest-data state.
                var before = new byte[4096];
                Array.Fill(before, (byte)0x99);
                image.Write(Size - 4096, before);
                model.Write(0x99, Size - 4096, 4096);
                operation(image);
                modelled(model);
                var data = new byte[length];
                Array.Fill(data, (byte)pattern);
                image.Write(offset, data);
                model.Write(pattern, offset, length);
            }
            SnapshotAssert.Clean(path, what);
            DiskModel.AssertReads(path, model.Active, what);
            model.AssertSnapshotsRead(path, scratch, SnapshotAssert.QemuApply, what);
        }

        Step("first write", _ => { }, _ => { }, 0x11, 0, 256 << 10);
        Step("after create s1", image => image.CreateSnapshot("s1"), m => m.Create("s1"), 0x22, 128 << 10, 256 << 10);
        Step("after create s2", image => image.CreateSnapshot("s2"), m => m.Create("s2"), 0x33, 0, 64 << 10);
        Step("after apply s1", image => image.ApplySnapshot(image.FindSnapshotByIdOrName("s1")!), m => m.Apply("s1"), 0x44, 64 << 10, 64 << 10);
        Step("after delete s2", image => image.DeleteSnapshot(image.FindSnapshotByNameOrId("s2")!), m => m.Delete("s2"), 0x55, 192 << 10, 128 << 10);
        Step("after apply s1 again", image => image.ApplySnapshot(image.FindSnapshotByIdOrName("s1")!), m => m.Apply("s1"), 0x66, 4096, 8192);
        Step("after delete s1", image => image.DeleteSnapshot(image.FindSnapshotByNameOrId("s1")!), m => m.Delete("s1"), 0x77, 0, 1 << 20);
    }
}
