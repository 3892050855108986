using System.CommandLine;
using System.Security.Cryptography;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// <c>smartcity governance propose|vote</c>: signs a governance transaction (<see cref="GovernancePropose"/> of
/// <c>add-validator</c> or <c>remove-validator</c>, or <see cref="GovernanceVote"/>) with a member key and writes it as
/// 0x-hex to a new file, for <c>smartcity submit FILE</c> (docs/consensus.md, "Adding and removing a validator"). It
/// only signs: the ledger checks the rules (membership, the proposal still open, the set left with 1 or ≥ 4) when the
/// transaction is submitted.
/// </summary>
internal sealed class GovernanceCommand : ICliCommandGroup
{
    private static readonly Option<string> Action = new("--action")
    {
        Description = "What the proposal does once it passes",
        HelpName = "add-validator|remove-validator",
        Required = true,
    };

    private static readonly Option<string> Target = new("--target") { Description = "The validator's address (0x…)", HelpName = "ADDRESS", Required = true };

    private static readonly Option<string> Name = new("--name") { Description = "add-validator: the validator's name (1-256 characters)", HelpName = "NAME" };

    private static readonly Option<string> Region = new("--region") { Description = "add-validator: the validator's region (a region of the consortium)", HelpName = "REGION" };

    private static readonly Option<string> Proposal = new("--proposal") { Description = "The proposal id (32 bytes, 0x-hex); propose: a fresh random one when omitted", HelpName = "0xID" };

    private static readonly Option<bool> Reject = new("--reject") { Description = "vote: reject instead of approve" };

    private static readonly Option<ulong> Nonce = new("--nonce")
    {
        Description = "The member's next nonce (how many of its transactions are committed; a refusal NonceReused/NonceGap names the expected one)",
        HelpName = "N",
        Required = true,
    };

    private static readonly Option<string> Key = new("--key") { Description = "The member key that signs: a keystore (with --password-file/--password-env) or, with --insecure-plaintext, a clear-text key", HelpName = "FILE", Required = true };

    private static readonly Option<string> Out = new("--out") { Description = "The new file the signed transaction is written to (0x-hex; never over an existing file)", HelpName = "FILE", Required = true };

    public Command Create()
    {
        var propose = new Command("propose", "Sign a proposal to add or remove a validator (the proposer's approval included); write it for smartcity submit")
        {
            Action, Target, Name, Region, Proposal,
        };
        var vote = new Command("vote", "Sign a vote on a proposal (approve, or --reject); write it for smartcity submit") { Proposal, Reject };
        foreach (var command in new[] { propose, vote })
        {
            foreach (var option in new Option[] { Nonce, Key, ApiClientOptions.PasswordFile, ApiClientOptions.PasswordEnv, ApiClientOptions.InsecurePlaintext, ApiClientOptions.Genesis, Out })
            {
                command.Options.Add(option);
            }
        }

        return new Command("governance", "Governance transactions: add or remove a validator by the members' vote (signed here, submitted with smartcity submit)")
        {
            propose.Handles(ProposeAsync),
            vote.Handles(VoteAsync),
        }.ShowsHelp();
    }

    private static Task<int> ProposeAsync(CliContext context, CancellationToken cancellationToken)
    {
        var action = context.Required(Action) switch
        {
            "add-validator" => GovernanceAction.AddValidator,
            "remove-validator" => GovernanceAction.RemoveValidator,
            var other => throw new CliUsageException($"--action: '{other}' is neither add-validator nor remove-validator"),
        };
        var targetText = context.Required(Target);
        if (!Address.TryParse(targetText, out var target, out var error))
        {
            throw new CliUsageException($"--target: '{targetText}' is not an address: {error}");
        }

        var name = context.Value(Name) ?? string.Empty;
        var region = context.Value(Region) ?? string.Empty;
        if (action == GovernanceAction.AddValidator && (name.Length == 0 || region.Length == 0))
        {
            throw new CliUsageException("add-validator needs --name and --region (the validator's name and region, kept in the state)");
        }

        var proposal = context.Value(Proposal) is { } text ? ProposalId(text) : NewProposalId();
        return WriteAsync(context, new GovernancePropose(proposal, action, target, string.Empty, name, region, MemberRole.None), $"proposal {proposal}", cancellationToken);
    }

    private static Task<int> VoteAsync(CliContext context, CancellationToken cancellationToken)
    {
        var proposal = ProposalId(context.Value(Proposal) ?? throw new CliUsageException("--proposal 0xID is required: the proposal voted on"));
        var approve = !context.Value(Reject);
        return WriteAsync(context, new GovernanceVote(proposal, approve), $"{(approve ? "approval" : "rejection")} of proposal {proposal}", cancellationToken);
    }

    private static async Task<int> WriteAsync(CliContext context, ITransactionBody body, string what, CancellationToken cancellationToken)
    {
        var output = context.Required(Out);
        if (File.Exists(output))
        {
            throw new CliUsageException($"--out: '{output}' exists; a transaction is never written over a file");
        }

        var genesis = await ApiClientOptions.GenesisAsync(context.Required(ApiClientOptions.Genesis), cancellationToken).ConfigureAwait(false);
        var suite = genesis.Crypto.CreateSuite();
        using var signer = KeysCommands.OpenSigner(context, context.Required(Key), ApiClientOptions.PasswordFile, ApiClientOptions.PasswordEnv, ApiClientOptions.InsecurePlaintext, suite.Signatures);
        var domain = genesis.Domain(suite);
        var tx = SignedTransaction.Sign(signer, domain, genesis.ChainId, context.Required(Nonce), body);
        var hex = "0x" + Convert.ToHexStringLower(TransactionCodec.Encode(tx)) + "\n";
        try
        {
            await File.WriteAllTextAsync(output, hex, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"--out: cannot write '{output}': {e.Message}");
        }

        await context.Output.WriteLineAsync($"SIGNED {tx.Hash(domain)}").ConfigureAwait(false);
        await context.Output.WriteLineAsync($"  {what}, by {signer.Address} at nonce {tx.Nonce}; written to {output} (submit it: smartcity submit {output} --api URL --key FILE --genesis GENESIS.json)").ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private static Hash256 ProposalId(string text)
        => Hash256.TryParse(text, out var id) ? id : throw new CliUsageException($"--proposal: '{text}' is not a 32-byte 0x-hex id");

    private static Hash256 NewProposalId()
    {
        Span<byte> id = stackalloc byte[32];
        RandomNumberGenerator.Fill(id);
        return new Hash256(id);
    }
}
