using SmartCity.CreditApi.Cli;
using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Testing;

namespace SmartCity.CreditApi.Tests.Cli;

/// <summary><c>smartcity governance propose|vote</c>: signed governance transactions for <c>smartcity submit</c>.</summary>
public sealed class GovernanceCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-governance-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Propose_and_vote_write_transactions_signed_by_the_member_at_its_nonce_and_never_over_a_file()
    {
        var setup = await LocalSetup.WriteAsync(_directory, RepositoryFiles.Read("contracts/genesis/sample-genesis.json"), ["BJ", "TJ", "HE", "XA"], 40000, null, TimeProvider.System, CancellationToken.None);
        var joined = await LocalSetup.JoinAsync(_directory, "BJ", "127.0.0.1:40010", CancellationToken.None);
        var member = setup.Members[0];
        string[] common = ["--key", member.KeyPath, "--password-file", setup.PasswordFile, "--genesis", setup.GenesisPath];
        var proposeFile = Path.Combine(_directory, "propose.tx");

        var (code, output, error) = await RunAsync(["governance", "propose", "--action", "add-validator", "--target", joined.Address.ToString(), "--name", joined.Name, "--region", "BJ", "--nonce", "7", "--out", proposeFile, .. common]);

        Assert.Equal((0, ""), (code, error));
        Assert.StartsWith("SIGNED 0x", output, StringComparison.Ordinal);
        var propose = Decode(proposeFile);
        Assert.Equal((member.Address, 7UL), (propose.Signer, propose.Nonce));
        var body = Assert.IsType<GovernancePropose>(propose.Body);
        Assert.Equal((GovernanceAction.AddValidator, joined.Address, joined.Name, "BJ"), (body.Action, body.Target, body.Name, body.Region));

        var voteFile = Path.Combine(_directory, "vote.tx");
        (code, _, error) = await RunAsync(["governance", "vote", "--proposal", body.ProposalId.ToString(), "--nonce", "0", "--out", voteFile, "--key", setup.Members[1].KeyPath, "--password-file", setup.PasswordFile, "--genesis", setup.GenesisPath]);
        Assert.Equal((0, ""), (code, error));
        var vote = Decode(voteFile);
        Assert.Equal(setup.Members[1].Address, vote.Signer);
        Assert.Equal(new GovernanceVote(body.ProposalId, true), vote.Body);

        // Never over a file; a removal needs no name; an unknown action or a missing name is one usage line.
        (code, _, error) = await RunAsync(["governance", "vote", "--proposal", body.ProposalId.ToString(), "--nonce", "1", "--out", voteFile, .. common]);
        Assert.Equal(2, code);
        Assert.Contains("exists", error, StringComparison.Ordinal);
        (code, _, error) = await RunAsync(["governance", "propose", "--action", "add-member", "--target", joined.Address.ToString(), "--nonce", "1", "--out", Path.Combine(_directory, "x.tx"), .. common]);
        Assert.Equal((2, 1), (code, error.Trim().Split('\n').Length));
        (code, _, error) = await RunAsync(["governance", "propose", "--action", "add-validator", "--target", joined.Address.ToString(), "--nonce", "1", "--out", Path.Combine(_directory, "y.tx"), .. common]);
        Assert.Equal(2, code);
        Assert.Contains("--name and --region", error, StringComparison.Ordinal);
        var removeFile = Path.Combine(_directory, "remove.tx");
        (code, _, error) = await RunAsync(["governance", "propose", "--action", "remove-validator", "--target", joined.Address.ToString(), "--nonce", "8", "--out", removeFile, .. common]);
        Assert.Equal((0, ""), (code, error));
        Assert.Equal(GovernanceAction.RemoveValidator, Assert.IsType<GovernancePropose>(Decode(removeFile).Body).Action);
    }

    private static SignedTransaction Decode(string path)
    {
        var text = File.ReadAllText(path).Trim();
        Assert.StartsWith("0x", text, StringComparison.Ordinal);
        var decoded = TransactionCodec.Decode(Convert.FromHexString(text[2..]));
        Assert.True(decoded.Transaction is not null, decoded.Error);
        return decoded.Transaction!;
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
