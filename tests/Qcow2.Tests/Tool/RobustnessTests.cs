using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Tool;

/// <summary>Damaged images: <c>qcow2 info</c> either works or fails with exit 1 and one line; it never crashes.</summary>
public sealed class RobustnessTests
{
    [QemuFact]
    public void Info_on_truncated_and_bit_flipped_images_never_crashes()
    {
        using var dir = new TempDir();
        var original = dir.File("original.qcow2");
        InfoInteropTests.Create(original, "64M", "-o", "cluster_size=4k");
        Qemu.Img("bitmap", "--add", original, "bm0").EnsureSuccess("qemu-img bitmap");
        Qemu.Img("snapshot", "-c", "snap", original).EnsureSuccess("qemu-img snapshot");
        var bytes = File.ReadAllBytes(original);
        var image = dir.File("damaged.qcow2");
        var internalErrors = new List<string>();
        int failures = 0, successes = 0;

        void Check(string what, byte[] content)
        {
            File.WriteAllBytes(image, content);
            foreach (var output in new[] { "human", "json" })
            {
                var result = ToolRunner.Run("info", "--output=" + output, image);
                Assert.True(result.ExitCode is 0 or 1, $"{what}: exit {result.ExitCode}");
                if (result.ExitCode == 1)
                {
                    failures++;
                    var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                    Assert.True(lines.Length == 1, $"{what}: {result.StandardError}");
                    Assert.StartsWith("qcow2: ", lines[0]);
                    if (lines[0].Contains("internal error", StringComparison.Ordinal))
                        internalErrors.Add($"{what}: {lines[0]}");
                }
                else
                {
                    successes++;
                    Assert.NotEqual("", result.StandardOutput);
                }
            }
        }

        foreach (var length in new[] { 0, 1, 4, 71, 72, 103, 104, 111, 112, 200, 4095, 4096, 8192, bytes.Length / 2, bytes.Length - 1 })
            Check($"truncated to {length}", bytes[..Math.Min(length, bytes.Length)]);

        // Every bit of the fixed header (both versions' fields), one at a time.
        for (var bit = 0; bit < 112 * 8; bit++)
        {
            var copy = (byte[])bytes.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            Check($"header bit {bit} flipped", copy);
        }

        // Bytes in the extension area and past it.
        var random = new Random(1234);
        for (var i = 0; i < 300; i++)
        {
            var copy = (byte[])bytes.Clone();
            var offset = random.Next(112, Math.Min(bytes.Length, 6 * 4096));
            copy[offset] = (byte)random.Next(256);
            Check($"byte {offset} set to {copy[offset]}", copy);
        }

        Assert.True(failures > 100 && successes > 100, $"{failures} failures, {successes} successes: the damage should hit both ways");
        Assert.True(internalErrors.Count == 0, "the library threw unexpected exceptions:\n" + string.Join('\n', internalErrors.Distinct().Take(20)));
    }
}
