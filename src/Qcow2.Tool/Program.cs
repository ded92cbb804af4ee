namespace Qcow2.Tool;

/// <summary>The <c>qcow2</c> executable: a thin shell over <see cref="Cli.Run"/>.</summary>
public static class Program
{
    /// <summary>Runs the command line and returns its exit code.</summary>
    public static int Main(string[] args) => Cli.Run(args, Console.Out, Console.Error);
}
