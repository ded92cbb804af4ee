namespace Qcow2;

/// <summary>Names of the run-time values the declared rules refer to.</summary>
internal static class ContextKeys
{
    public const string ClusterSize = "ClusterSize";
    public const string VirtualSize = "VirtualSize";
}
