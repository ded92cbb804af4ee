namespace Qcow2;

/// <summary>Overflow-free rounding helpers.</summary>
internal static class Align
{
    public static long Up8(long value) => (value + 7) & ~7L;

    public static ulong DivideRoundUp(ulong value, ulong divisor) => value / divisor + (value % divisor == 0 ? 0UL : 1UL);

    public static long DivideRoundUp(long value, long divisor) => value / divisor + (value % divisor == 0 ? 0L : 1L);

    /// <summary>The next multiple of <paramref name="alignment"/> at or above a non-negative value.</summary>
    public static long Up(long value, long alignment) => DivideRoundUp(value, alignment) * alignment;
}
