namespace Qcow2;

/// <summary>QEMU's block layer refuses any I/O that reaches past BDRV_MAX_LENGTH (INT64_MAX rounded down to 1 GiB) with EIO.</summary>
internal static class Addressable
{
    public const ulong MaxLength = (ulong)Limits.MaxVirtualSize;

    /// <summary>
    /// The last line of defence for every read and write of the storage: QEMU's block layer fails I/O past BDRV_MAX_LENGTH with
    /// EIO, so an offset computed from a hostile value (negative once cast to long) is an invalid image, not a caller error.
    /// </summary>
    public static void RequireIo(long offset, long length)
    {
        if (offset < 0 || (ulong)offset > MaxLength || (ulong)length > MaxLength - (ulong)offset)
            throw new Qcow2FormatException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Input/output error (I/O at offset {(ulong)offset} of {length} bytes reaches past the largest readable offset {MaxLength})"),
                value: ((ulong)offset).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Throws QEMU's read error when [offset, offset + length) cannot be read.</summary>
    public static void Require(ulong offset, ulong length, string qemuMessage, string field, long fieldOffset)
    {
        if (offset > MaxLength || length > MaxLength - offset)
            throw Qcow2FormatException.ForField(qemuMessage + ": Input/output error", field, fieldOffset, offset,
                $"plus {length} bytes reaches past the largest readable offset {MaxLength}");
    }
}
