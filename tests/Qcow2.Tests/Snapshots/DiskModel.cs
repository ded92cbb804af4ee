using System.Globalization;
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Snapshots;

/// <summary>
/// What the guest disk and every snapshot must read back as: a byte per guest byte for the active state and one copy per
/// snapshot name. Verified through qemu-io, one <c>read -P</c> per run of equal bytes.
/// </summary>
internal sealed class DiskModel
{
    private readonly Dictionary<string, byte[]> snapshots = [];

    public DiskModel(long size) => Active = new byte[size];

    public byte[] Active { get; private set; }

    public IReadOnlyDictionary<string, byte[]> Snapshots => snapshots;

    public DiskModel Clone()
    {
        var clone = new DiskModel(0) { Active = (byte[])Active.Clone() };
        foreach (var (name, bytes) in snapshots)
            clone.snapshots[name] = bytes;
        return clone;
    }

    public void Write(int pattern, long offset, long length) => Active.AsSpan((int)offset, (int)length).Fill((byte)pattern);

    public void Create(string name) => snapshots[name] = (byte[])Active.Clone();

    public void Apply(string name) => Active = (byte[])snapshots[name].Clone();

    public void Delete(string name) => snapshots.Remove(name);

    /// <summary>qemu-io reads the active disk of <paramref name="path"/> back as <paramref name="expected"/>.</summary>
    public static void AssertReads(string path, byte[] expected, string what)
    {
        var args = new List<string> { "-r", "-f", "qcow2" };
        for (var start = 0; start < expected.Length;)
        {
            var end = start;
            while (end < expected.Length && expected[end] == expected[start])
                end++;
            args.AddRange(["-c", string.Create(CultureInfo.InvariantCulture, $"read -q -P 0x{expected[start]:x2} {start} {end - start}")]);
            start = end;
        }
        args.Add(path);
        var result = Qemu.Io([.. args]);
        Assert.True(result.ExitCode == 0 && !(result.StandardOutput + result.StandardError).Contains("verification failed", StringComparison.Ordinal),
            $"{what}: qemu-io exited {result.ExitCode}: {result.StandardError}{result.StandardOutput}");
    }

    /// <summary>
    /// Every snapshot of the model, applied on a scratch copy of <paramref name="path"/> by <paramref name="apply"/>, reads back
    /// as it was taken.
    /// </summary>
    public void AssertSnapshotsRead(string path, string scratch, Action<string, string> apply, string what)
    {
        foreach (var (name, bytes) in snapshots)
        {
            File.Copy(path, scratch, overwrite: true);
            apply(scratch, name);
            AssertReads(scratch, bytes, $"{what}: snapshot {name} after applying it");
        }
    }
}
