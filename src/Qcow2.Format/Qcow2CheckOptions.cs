namespace Qcow2;

/// <summary>Options of <see cref="Qcow2Image.Check"/>.</summary>
public sealed class Qcow2CheckOptions
{
    /// <summary>What to repair; repairs need an image opened writable.</summary>
    public Qcow2CheckRepair Repair { get; init; }

    /// <summary>Receives the fraction done, from 0 to 1, during long checks.</summary>
    public IProgress<double>? Progress { get; init; }

    /// <summary>Stops a long check; a check cancelled during a repair leaves the image consistent or as it was.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Reads on the calling thread only (tests compare such a run with the default one, which reads ahead on a second).</summary>
    internal bool SingleThreaded { get; init; }
}
