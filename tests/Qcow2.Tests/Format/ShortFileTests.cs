using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Format;

/// <summary>An empty or truncated file is reported as such, not as a wrong magic of 0x00000000 read from past its end.</summary>
public sealed class ShortFileTests
{
    [Theory]
    [InlineData(0, "qcow2: Could not open '{0}': Image is not in qcow2 format (the file is empty)")]
    [InlineData(3, "qcow2: Could not open '{0}': Image is not in qcow2 format (the file is 3 bytes long, too short for the 4-byte magic)")]
    public void An_empty_or_too_short_file_says_so(int length, string expected)
    {
        using var dir = new TempDir();
        var path = dir.File("short.qcow2");
        File.WriteAllBytes(path, new byte[length]);
        var error = Assert.Throws<Qcow2FormatException>(() => Qcow2Image.Open(path));
        Assert.Equal("Qcow2Header.Magic", error.Field);
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, path),
            ToolRunner.AssertSingleLineError(ToolRunner.Run("info", path)));
    }
}
