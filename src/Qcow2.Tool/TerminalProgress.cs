using System.Globalization;

namespace Qcow2.Tool;

/// <summary>qemu-img's <c>-p</c>: "    (12.34/100%)" redrawn in place; <c>check</c> shows it only on a terminal, <c>amend</c> always.</summary>
internal sealed class TerminalProgress(TextWriter output, bool enabled) : IProgress<double>, IDisposable
{
    /// <summary>Shown only when <paramref name="output"/> is a terminal, as qemu-img's verbs other than amend do.</summary>
    public TerminalProgress(TextWriter output)
        : this(output, output == Console.Out ? !Console.IsOutputRedirected : !Console.IsErrorRedirected)
    {
    }

    private int lastHundredths = -1;

    public void Report(double value)
    {
        var hundredths = (int)(Math.Clamp(value, 0, 1) * 10000);
        if (!enabled || hundredths == lastHundredths)
            return;
        lastHundredths = hundredths;
        output.Write(string.Create(CultureInfo.InvariantCulture, $"    ({hundredths / 100.0:F2}/100%)\r"));
        output.Flush();
    }

    public void Finish() => Report(1);

    public void Dispose()
    {
        if (enabled && lastHundredths >= 0)
            output.Write("\n");
    }
}
