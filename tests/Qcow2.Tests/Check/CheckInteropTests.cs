using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Check;

/// <summary>
/// <c>qcow2 check</c> without repair on every scenario of <see cref="CheckScenarios"/>: the same exit code and JSON as
/// <c>qemu-img check --output=json</c>, the same summary on stdout and the same problem lines on stderr, in the same order.
/// </summary>
public sealed class CheckInteropTests
{
    public static TheoryData<string> Scenarios => CheckScenarios.Names();

    [QemuTheory]
    [MemberData(nameof(Scenarios))]
    public void Check_prints_what_qemu_img_check_prints(string name) => AssertCheckMatchesQemuImg(CheckScenarios.Get(name));

    /// <summary>The scenario's JSON, exit code, summary and problem lines equal qemu-img's; the image is not written.</summary>
    public static void AssertCheckMatchesQemuImg(CheckScenario scenario)
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        scenario.Build(dir, image);
        var before = CheckRunner.Hash(image);

        var qemuJson = CheckRunner.QemuImg(image, json: true);
        Assert.True(qemuJson.ExitCode == scenario.QemuExit, $"the scenario's edit did not have the intended effect\n{qemuJson}");
        var oursJson = CheckRunner.Ours(image, json: true);
        Assert.True(qemuJson.ExitCode == oursJson.ExitCode, $"exit codes differ\n{qemuJson}\n{oursJson}");
        CheckRunner.AssertSameJson(qemuJson, oursJson);

        var qemuHuman = CheckRunner.QemuImg(image, json: false);
        var oursHuman = CheckRunner.Ours(image, json: false);
        CheckRunner.AssertSameHuman(qemuHuman, oursHuman);
        if (scenario.QemuExit != 0)
            Assert.NotEmpty(oursHuman.ProblemLines);

        Assert.Equal(before, CheckRunner.Hash(image)); // a check without -r never writes
    }
}
