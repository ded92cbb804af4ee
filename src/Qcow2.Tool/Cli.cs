using System.Text;

namespace Qcow2.Tool;

/// <summary>The command line of the <c>qcow2</c> tool, runnable in-process (tests call <see cref="Run"/> directly).</summary>
public static class Cli
{
    internal const string ProgramName = "qcow2";

    /// <summary>Every verb. Adding a verb is one file implementing <see cref="ICommand"/> plus one line here.</summary>
    internal static readonly IReadOnlyList<ICommand> Commands =
    [
        new InfoCommand(),
        new CreateCommand(),
        new AmendCommand(),
        new CheckCommand(),
        new ResizeCommand(),
        new BitmapCommand(),
        new MapCommand(),
        new CompareCommand(),
        new ConvertCommand(),
        new MeasureCommand(),
        new RebaseCommand(),
        new CommitCommand(),
        new BackupCommand(),
        new SnapshotCommand(),
    ];

    /// <summary>
    /// A library exception's message in the tool's words: without the " (Parameter 'x')" that .NET appends for an argument,
    /// and with the library's API names for a repair replaced by the command that does it.
    /// </summary>
    internal static string MessageOf(Exception e)
    {
        var message = e.Message;
        if (e is ArgumentException { ParamName: { } parameter })
            message = message.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal);
        return message.Replace("Qcow2Image.Check with Qcow2CheckRepair.All", "qcow2 check -r all", StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs <c>qcow2 ARGS…</c>, writing to <paramref name="stdout"/> and <paramref name="stderr"/>, and returns the exit code:
    /// 0 on success; on any error, exactly one line <c>qcow2: message</c> on <paramref name="stderr"/> and the verb's error code (1, or 2 for compare).
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ICommand? command = null;
        int Fail(TextWriter stderr, string message) => Cli.Fail(stderr, message, command?.ErrorExitCode ?? 1);
        try
        {
            return Dispatch(args, stdout, stderr, ref command);
        }
        catch (ToolException e)
        {
            return Fail(stderr, e.Message);
        }
        catch (Qcow2FormatException e)
        {
            return Fail(stderr, MessageOf(e));
        }
        catch (BinaryFormat.BinaryFormatException e)
        {
            return Fail(stderr, e.Message);
        }
        catch (FileNotFoundException e)
        {
            return Fail(stderr, e.FileName is { } name ? $"Could not open '{name}': No such file or directory" : e.Message);
        }
        catch (DirectoryNotFoundException e)
        {
            return Fail(stderr, e.Message);
        }
        catch (IOException e)
        {
            return Fail(stderr, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            return Fail(stderr, e.Message);
        }
        catch (ArgumentException e)
        {
            return Fail(stderr, MessageOf(e));
        }
        catch (Exception e)
        {
            // Last resort: still one line, but say what kind of failure it was, since it is a bug in the tool or the library.
            return Fail(stderr, $"internal error: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            stdout.Flush();
            stderr.Flush();
        }
    }

    private static int Dispatch(string[] args, TextWriter stdout, TextWriter stderr, ref ICommand? command)
    {
        if (args.Length == 0)
            throw new UsageException("Not enough arguments; try 'qcow2 --help' for more information");
        var verb = args[0];
        if (verb is "-h" or "--help" or "help")
        {
            WriteHelp(stdout);
            return 0;
        }
        if (verb is "-V" or "--version")
        {
            stdout.WriteLine($"{ProgramName} version {typeof(Cli).Assembly.GetName().Version?.ToString(3) ?? "0.0.0"}");
            return 0;
        }
        foreach (var candidate in Commands)
            if (candidate.Name == verb)
                command = candidate;
        if (command is null)
            throw new UsageException($"Command not found: {verb}; try 'qcow2 --help' for more information");
        var rest = args.AsSpan(1);
        string? last = null;
        if (command.LastArgumentIsPositional && rest.Length >= 2)
        {
            last = rest[^1];
            rest = rest[..^1];
        }
        var parsed = ArgParser.Parse(rest, command.Options);
        if (last is not null)
            parsed.Positionals.Add(last);
        if (parsed.Help)
        {
            stdout.Write(command.Usage);
            return 0;
        }
        return command.Execute(parsed, new CommandContext(stdout, stderr));
    }

    private static void WriteHelp(TextWriter stdout)
    {
        var text = new StringBuilder();
        text.Append("usage: qcow2 [-h | --help] [-V | --version] COMMAND [COMMAND OPTIONS]\n\n");
        text.Append("qcow2 disk image utility; mirrors qemu-img for the qcow2 format.\n\nCommands:\n");
        foreach (var command in Commands)
            text.Append($"  {command.Name,-10}{command.Summary}\n");
        text.Append("\nRun 'qcow2 COMMAND --help' for the options of a command.\n");
        stdout.Write(text.ToString());
    }

    private static int Fail(TextWriter stderr, string message, int exitCode)
    {
        stderr.WriteLine($"{ProgramName}: {OneLine(message)}");
        return exitCode;
    }

    /// <summary>Folds a possibly multi-line message into one line.</summary>
    internal static string OneLine(string message)
    {
        var parts = message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length == 0 ? "unknown error" : string.Join(' ', parts);
    }
}
