using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Tool;

/// <summary>
/// Damaged images: <c>qcow2 info</c> either works or fails with exit 1 and one line; <c>qcow2 check</c> and <c>check -r all</c>
/// (on copies) exit 0–3 like qemu-img check, and when they fail they say so in one <c>qcow2: </c> line. Nothing ever crashes.
/// </summary>
public sealed class RobustnessTests
{
    [QemuFact]
    public void Info_and_check_on_truncated_and_bit_flipped_images_never_crash()
    {
        using var dir = new TempDir();
        var original = dir.File("original.qcow2");
        InfoInteropTests.Create(original, "64M", "-o", "cluster_size=4k");
        Qemu.Img("bitmap", "--add", original, "bm0").EnsureSuccess("qemu-img bitmap");
        Qemu.Img("snapshot", "-c", "snap", original).EnsureSuccess("qemu-img snapshot");
        var bytes = File.ReadAllBytes(original);
        var image = dir.File("damaged.qcow2");
        var internalErrors = new List<string>();
        int failures = 0, successes = 0, checkFailures = 0, checkResults = 0;

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

            // check and check -r all, each on a fresh copy (a repair changes the file). qemu-img check's exit codes: 0 clean,
            // 1 check failed, 2 corruptions, 3 leaks; findings go to stderr line by line, a failure adds one "qcow2: " line.
            foreach (var args in new[] { new[] { "check" }, new[] { "check", "-r", "all" }, new[] { "check", "--output=json", "-r", "leaks" } })
            {
                File.WriteAllBytes(image, content);
                var result = ToolRunner.Run([.. args, image]);
                var what2 = $"{what}: qcow2 {string.Join(' ', args)}";
                Assert.True(result.ExitCode is >= 0 and <= 3, $"{what2}: exit {result.ExitCode}: {result.StandardError}");
                Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
                var toolLines = result.StandardError.Split('\n')
                    .Where(l => l.StartsWith("qcow2: ", StringComparison.Ordinal) && !l.StartsWith("qcow2: warning: ", StringComparison.Ordinal)).ToList();
                Assert.True(toolLines.Count <= 1, $"{what2}: {result.StandardError}");
                if (result.ExitCode == 1)
                    checkFailures++;
                else
                    checkResults++;
                if (toolLines.Count == 1 && toolLines[0].Contains("internal error", StringComparison.Ordinal))
                    internalErrors.Add($"{what2}: {toolLines[0]}");
                if (result.ExitCode != 1)
                    Assert.NotEqual("", result.StandardOutput);
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
        Assert.True(checkFailures > 50 && checkResults > 100, $"check: {checkFailures} failures, {checkResults} results: the damage should hit both ways");
        Assert.True(internalErrors.Count == 0, "the library threw unexpected exceptions:\n" + string.Join('\n', internalErrors.Distinct().Take(20)));
    }
}
