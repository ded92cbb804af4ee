namespace Qcow2;

/// <summary>Ends a check the way QEMU's "Check failed: …" does, carrying what the failing pass had counted up to then.</summary>
internal sealed class CheckFailedException(string message, CheckCounters counted = default) : Exception(message)
{
    public CheckCounters Counted { get; } = counted;
}
