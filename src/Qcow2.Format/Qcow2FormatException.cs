using System.Globalization;
using BinaryFormat;

namespace Qcow2;

/// <summary>
/// An image breaks a rule of the qcow2 format (or of what QEMU 7.2 accepts), or a requested change cannot be made.
/// The message starts with QEMU's own text and names the field, its value and the rule.
/// </summary>
public class Qcow2FormatException : Exception
{
    /// <summary>Creates an exception with a message and, when known, the offending field and value.</summary>
    public Qcow2FormatException(string message, string? field = null, string? value = null)
        : base(message)
    {
        Field = field;
        Value = value;
    }

    /// <summary>Creates an exception for a failure that another exception (for example a failed read) caused.</summary>
    public Qcow2FormatException(string message, Exception? innerException, string? field, string? value)
        : base(message, innerException)
    {
        Field = field;
        Value = value;
    }

    /// <summary>The offending on-disk field, e.g. <c>Qcow2Header.ClusterBits</c>, or null.</summary>
    public string? Field { get; }

    /// <summary>The offending value as text, or null.</summary>
    public string? Value { get; }

    /// <summary>QEMU's message followed by a declared rule's description.</summary>
    internal static Qcow2FormatException FromRule(string qemuMessage, BinaryFormatError error) =>
        new($"{qemuMessage} ({error.Message})", FieldName(error), error.Value);

    /// <summary>QEMU's message followed by "Type.Field at offset N: value rule".</summary>
    internal static Qcow2FormatException ForField(string qemuMessage, string field, long offset, object value, string rule)
    {
        var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        return new(string.Create(CultureInfo.InvariantCulture, $"{qemuMessage} ({field} at offset {offset}: {text} {rule})"), field, text);
    }

    private static string FieldName(BinaryFormatError error) =>
        error.MemberPath.Length == 0 ? error.TypeName : error.TypeName + "." + error.MemberPath;
}
