using System.Text.Json;

namespace Qcow2.Tests.Infrastructure;

/// <summary>Structural JSON comparison: every key qemu-img prints must be present with an equal value.</summary>
public static class JsonCompare
{
    /// <summary>
    /// Returns the differences between <paramref name="expected"/> (qemu-img) and <paramref name="actual"/> (ours):
    /// missing keys, unequal values, array length/element differences, and extra keys in <paramref name="actual"/> that
    /// are not allowed by <paramref name="extraKeyAllowed"/>. Keys in <paramref name="ignore"/> (top-level) are skipped.
    /// </summary>
    public static List<string> Differences(JsonElement expected, JsonElement actual, Func<string, bool> extraKeyAllowed, params string[] ignore)
    {
        var differences = new List<string>();
        Compare(expected, actual, "$", differences, extraKeyAllowed, ignore);
        return differences;
    }

    private static void Compare(JsonElement expected, JsonElement actual, string path, List<string> differences, Func<string, bool> extraKeyAllowed, string[] ignore)
    {
        if (expected.ValueKind != actual.ValueKind)
        {
            differences.Add($"{path}: expected {expected.ValueKind} {expected.GetRawText()}, got {actual.ValueKind} {actual.GetRawText()}");
            return;
        }
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in expected.EnumerateObject())
                {
                    if (path == "$" && ignore.Contains(property.Name))
                        continue;
                    if (!actual.TryGetProperty(property.Name, out var value))
                        differences.Add($"{path}.{property.Name}: missing (qemu-img has {property.Value.GetRawText()})");
                    else
                        Compare(property.Value, value, $"{path}.{property.Name}", differences, extraKeyAllowed, ignore);
                }
                foreach (var property in actual.EnumerateObject())
                {
                    if (!expected.TryGetProperty(property.Name, out _) && !(path == "$" && ignore.Contains(property.Name)) && !extraKeyAllowed(property.Name))
                        differences.Add($"{path}.{property.Name}: not printed by qemu-img ({property.Value.GetRawText()})");
                }
                break;
            case JsonValueKind.Array:
                var e = expected.EnumerateArray().ToList();
                var a = actual.EnumerateArray().ToList();
                if (e.Count != a.Count)
                {
                    differences.Add($"{path}: expected {e.Count} elements {expected.GetRawText()}, got {a.Count} {actual.GetRawText()}");
                    return;
                }
                for (var i = 0; i < e.Count; i++)
                    Compare(e[i], a[i], $"{path}[{i}]", differences, extraKeyAllowed, ignore);
                break;
            default:
                if (expected.GetRawText() != actual.GetRawText())
                    differences.Add($"{path}: expected {expected.GetRawText()}, got {actual.GetRawText()}");
                break;
        }
    }
}
