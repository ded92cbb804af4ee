namespace Qcow2.Tool;

/// <summary>
/// One verb of the <c>qcow2</c> command. To add a verb, write a class implementing this interface in its own file
/// and add one line to <see cref="Cli.Commands"/>.
/// </summary>
internal interface ICommand
{
    /// <summary>The verb as typed on the command line (<c>info</c>).</summary>
    string Name { get; }

    /// <summary>One line for <c>qcow2 --help</c>.</summary>
    string Summary { get; }

    /// <summary>The synopsis and option list printed by <c>qcow2 VERB --help</c>.</summary>
    string Usage { get; }

    /// <summary>The options this verb accepts; <c>-h/--help</c> is always added.</summary>
    IReadOnlyList<OptionSpec> Options { get; }

    /// <summary>
    /// When true, the last argument is taken off before options are parsed and appended to the positionals (qemu-img resize
    /// does this so that a size like <c>-1G</c> is not read as an option).
    /// </summary>
    bool LastArgumentIsPositional => false;

    /// <summary>The exit code of a failure (qemu-img compare exits 2 on errors, since 1 means "the images differ").</summary>
    int ErrorExitCode => 1;

    /// <summary>Runs the verb. Throw <see cref="ToolException"/> (or <see cref="UsageException"/>) for errors; return the exit code.</summary>
    int Execute(ParsedArguments args, CommandContext context);
}

/// <summary>Where a verb writes.</summary>
internal sealed class CommandContext(TextWriter stdout, TextWriter stderr)
{
    public TextWriter Out { get; } = stdout;

    public TextWriter Error { get; } = stderr;

    /// <summary>Writes a <c>qcow2: warning: …</c> line to stderr.</summary>
    public void Warn(string message) => Error.WriteLine($"{Cli.ProgramName}: warning: {Cli.OneLine(message)}");
}

/// <summary>An error that the tool reports as one line <c>qcow2: message</c> with exit code 1.</summary>
internal class ToolException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A command-line mistake (unknown option, missing argument, bad value).</summary>
internal sealed class UsageException(string message) : ToolException(message);
