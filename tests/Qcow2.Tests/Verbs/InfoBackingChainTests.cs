using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.GuestData.GuestImages;

namespace Qcow2.Tests.Verbs;

/// <summary><c>info --backing-chain</c>: every image of the chain, as qemu-img prints it; names with a protocol are still refused.</summary>
[Trait("Category", "Interop")]
public sealed class InfoBackingChainTests
{
    [QemuFact]
    public void Prints_the_chain_like_qemu_img()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("sub"));
        var (a, b, c) = (dir.File("sub/a.qcow2"), dir.File("sub/b.qcow2"), dir.File("c.qcow2"));
        Img("create", "-q", "-f", "qcow2", a, "4M");
        Io(a, "write -P 1 0 1M");
        Img("create", "-q", "-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2", b);
        Img("create", "-q", "-f", "qcow2", "-b", "sub/b.qcow2", "-F", "qcow2", c, "8M");
        var human = VerbParity.AssertSameAsQemu("info", "--backing-chain", c);
        Assert.Equal(3, human.StandardOutput.Split("image: ").Length - 1);

        var qemu = Qemu.Img("info", "--backing-chain", "--output=json", c).EnsureSuccess("qemu-img info");
        var ours = ToolRunner.Run("info", "--backing-chain", "--output=json", c).EnsureSuccess();
        var differences = JsonCompare.Differences(System.Text.Json.JsonDocument.Parse(qemu.StandardOutput).RootElement, ours.Json(),
            key => key.StartsWith("qcow2-", StringComparison.Ordinal), "actual-size");
        Assert.True(differences.Count == 0, string.Join('\n', differences));
        Assert.Equal(3, ours.Json().GetArrayLength());
    }

    [QemuFact]
    public void A_backing_name_with_a_protocol_is_not_followed()
    {
        using var dir = new TempDir();
        var image = dir.File("x.qcow2");
        Img("create", "-q", "-f", "qcow2", "-u", "-b", "nbd://localhost:10809/disk", "-F", "qcow2", image, "1M");
        ToolRunner.Run("info", image).EnsureSuccess();
        var error = ToolRunner.AssertSingleLineError(ToolRunner.Run("info", "--backing-chain", image));
        Assert.Contains("protocol prefix", error, StringComparison.Ordinal);
    }
}
