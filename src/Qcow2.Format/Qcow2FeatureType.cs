namespace Qcow2;

/// <summary>The feature field a feature-name-table entry names a bit of.</summary>
public enum Qcow2FeatureType
{
    /// <summary>incompatible_features</summary>
    Incompatible = 0,
    /// <summary>compatible_features</summary>
    Compatible = 1,
    /// <summary>autoclear_features</summary>
    Autoclear = 2,
}
