using System.Text;
using System.Text.Json;
using Qcow2.Tests.Infrastructure;
using Qcow2.Tool;

namespace Qcow2.Tests.Check;

/// <summary>
/// Reading tables ahead on a second thread changes nothing a check reports: on every damaged-image scenario, a default run
/// and one forced onto the calling thread give the same findings in the same order, the same counts and the same JSON,
/// without repair and with each repair the scenario exercises.
/// </summary>
public sealed class CheckThreadingTests
{
    public static TheoryData<string> Scenarios => CheckScenarios.Names();

    [QemuTheory]
    [MemberData(nameof(Scenarios))]
    public void A_check_reading_ahead_reports_what_a_single_threaded_one_reports(string name)
    {
        var scenario = CheckScenarios.Get(name);
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        scenario.Build(dir, image);

        foreach (var repair in (string[])["none", .. scenario.Repairs])
        {
            var mode = repair switch { "leaks" => Qcow2CheckRepair.Leaks, "all" => Qcow2CheckRepair.All, _ => Qcow2CheckRepair.None };
            var single = Run(dir, image, $"single-{repair}.qcow2", mode, singleThreaded: true);
            var ahead = Run(dir, image, $"ahead-{repair}.qcow2", mode, singleThreaded: false);
            Assert.Equal(single, ahead);
        }
    }

    /// <summary>Checks a copy of the image; returns every finding, count and the JSON qemu-img's format gives, as text.</summary>
    private static string Run(TempDir dir, string image, string copyName, Qcow2CheckRepair repair, bool singleThreaded)
    {
        var copy = dir.File(copyName);
        File.Copy(image, copy);
        using var opened = Qcow2Image.Open(copy, new Qcow2OpenOptions { ForCheck = true, Writable = repair != Qcow2CheckRepair.None });
        var result = opened.Check(new Qcow2CheckOptions { Repair = repair, SingleThreaded = singleThreaded });
        var text = new StringBuilder();
        foreach (var finding in result.RepairFindings.Concat(result.Findings))
            text.AppendLine(finding.ToString());
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
            CheckCommand.Json(result, "image.qcow2").WriteJson(writer);
        text.AppendLine(Encoding.UTF8.GetString(stream.ToArray()));
        text.AppendLine($"failure={result.FailureMessage} leaks fixed={result.LeaksFixed} corruptions fixed={result.CorruptionsFixed}");
        return text.ToString();
    }
}
