namespace Qcow2;

/// <summary>The sizes <see cref="Qcow2Converter.Measure"/> computes, as <c>qemu-img measure</c> prints them.</summary>
/// <param name="Required">Bytes a new image needs for the source's data and all its metadata.</param>
/// <param name="FullyAllocated">Bytes the image needs with every cluster allocated.</param>
/// <param name="Bitmaps">Bytes the source's persistent bitmaps need when copied; null when they cannot be (no qcow2 v3 source and target).</param>
public sealed record Qcow2MeasureResult(long Required, long FullyAllocated, long? Bitmaps);
