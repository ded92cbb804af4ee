namespace Qcow2.Tests;

internal static class CheckResultExtensions
{
    /// <summary>The exit code <c>qcow2 check</c> (and qemu-img check) gives for a result: the tool's own mapping.</summary>
    public static int ExitCode(this Qcow2CheckResult result) => Qcow2.Tool.CheckCommand.ExitCode(result);
}
