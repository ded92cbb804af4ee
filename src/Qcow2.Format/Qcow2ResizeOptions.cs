namespace Qcow2;

/// <summary>Options of <see cref="Qcow2Image.Resize"/>.</summary>
public sealed class Qcow2ResizeOptions
{
    /// <summary>Allow a new size below the current one (<c>qemu-img resize --shrink</c>). Data past the new end is discarded.</summary>
    public bool AllowShrink { get; init; }

    /// <summary>What to allocate for the new area when growing; anything but <see cref="Qcow2Preallocation.Off"/> is refused when shrinking.</summary>
    public Qcow2Preallocation Preallocation { get; init; } = Qcow2Preallocation.Off;
}
