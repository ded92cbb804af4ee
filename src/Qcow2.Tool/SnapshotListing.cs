using System.Globalization;
using System.Text;

namespace Qcow2.Tool;

/// <summary>qemu's <c>bdrv_snapshot_dump</c> table, printed by <c>info</c> and <c>snapshot -l</c> alike.</summary>
internal static class SnapshotListing
{
    public static void AppendHeader(StringBuilder text) =>
        text.Append(CultureInfo.InvariantCulture, $"{"ID",-10}{"TAG",-17}{"VM SIZE",8}{"DATE",20}{"VM CLOCK",13}{"ICOUNT",11}\n");

    /// <summary>One row; the date in local time, as qemu-img prints it.</summary>
    public static void AppendRow(StringBuilder text, string id, string name, long vmStateSize, long dateSeconds, long vmClockNanoseconds, long? icount)
    {
        var date = DateTimeOffset.FromUnixTimeSeconds(dateSeconds).ToLocalTime();
        var seconds = vmClockNanoseconds / 1_000_000_000;
        var clock = string.Create(CultureInfo.InvariantCulture,
            $"{seconds / 3600:00}:{seconds / 60 % 60:00}:{seconds % 60:00}.{vmClockNanoseconds % 1_000_000_000 / 1_000_000:000}");
        var icountText = icount is { } n ? n.ToString(CultureInfo.InvariantCulture) : "";
        text.Append(CultureInfo.InvariantCulture,
            $"{PadBytes(id, 9)} {PadBytes(name, 16)} {CommonOptions.SizeToString(vmStateSize),8}{date.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),20}{clock,13}{icountText,11}\n");
    }

    /// <summary>"Snapshot list:", the header and a row per snapshot; nothing when there are none (as qemu-img).</summary>
    public static string Format(IReadOnlyList<Qcow2Snapshot> snapshots)
    {
        var text = new StringBuilder();
        if (snapshots.Count == 0)
            return "";
        text.Append("Snapshot list:\n");
        AppendHeader(text);
        foreach (var s in snapshots)
            AppendRow(text, s.Id, s.Name, s.VmStateSize, s.Date.ToUnixTimeSeconds(), s.VmClockNanoseconds, s.ICount);
        return text.ToString();
    }

    /// <summary>printf's <c>%-Ns</c>, as qemu-img uses it: the width counts UTF-8 bytes, not characters.</summary>
    private static string PadBytes(string text, int width)
    {
        var padding = width - Encoding.UTF8.GetByteCount(text);
        return padding > 0 ? text + new string(' ', padding) : text;
    }
}
