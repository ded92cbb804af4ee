namespace Qcow2;

/// <summary>Overflow-free rounding helpers.</summary>
internal static class Align
{
    public static long Up8(long value) => (value + 7) & ~7L;

    public static ulong DivideRoundUp(ulong value, ulong divisor) => value / divisor + (value % divisor == 0 ? 0UL : 1UL);
}
