namespace Qcow2.Tests.Infrastructure;

/// <summary>Runs an operation once per crash point with <see cref="CrashAfterWritesStream"/>.</summary>
public static class CrashPoints
{
    /// <summary>
    /// Runs <paramref name="operation"/> without a crash (it must report success), then with a crash after every write N,
    /// handing each persisted image, written to <paramref name="path"/>, to <paramref name="verify"/>. Returns the number of writes.
    /// </summary>
    public static int Run(string path, byte[] template, Func<Qcow2Image, bool> operation, Action<string, int> verify)
    {
        var full = new CrashAfterWritesStream(template, int.MaxValue);
        using (var image = Qcow2Image.Open(full, new Qcow2OpenOptions { Writable = true, LeaveOpen = true }))
            Assert.True(operation(image), "the operation did not do what the test needs");
        var writes = full.Writes;
        for (var n = 0; n <= writes; n++)
        {
            var stream = new CrashAfterWritesStream(template, n);
            using (var image = Qcow2Image.Open(stream, new Qcow2OpenOptions { Writable = true, LeaveOpen = true }))
                operation(image);
            Assert.Equal(writes, stream.Writes); // the same operation, write for write
            File.WriteAllBytes(path, stream.PersistedBytes);
            verify(path, n);
        }
        return writes;
    }
}
