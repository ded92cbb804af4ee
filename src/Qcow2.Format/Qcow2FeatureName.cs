namespace Qcow2;

/// <summary>One entry of the feature name table.</summary>
/// <param name="Type">The feature field (a raw value outside the enum is kept as read).</param>
/// <param name="Bit">The bit number, 0-63.</param>
/// <param name="Name">The human-readable name.</param>
public sealed record Qcow2FeatureName(Qcow2FeatureType Type, int Bit, string Name);
