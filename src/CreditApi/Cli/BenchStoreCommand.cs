using System.CommandLine;
using System.Text.Json;
using SmartCity.CreditApi.Bench;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// <c>smartcity bench store --store DIR [--phases audit,verify-chain] [--proofs 2000] [--audit-blocks 50] [--ceiling-signatures 40000]
/// [--json FILE] [--markdown FILE]</c>: restart, resident memory, chain audit and VerifyChain over a store <c>bench fill</c>
/// wrote (<see cref="StoreBench"/>; issues 9, 13 and 14, "Targets"). Run it in a fresh process: the restart is its first step.
/// </summary>
internal sealed class BenchStoreCommand : IBenchTarget
{
    private static readonly string[] KnownPhases = ["audit", "verify-chain"];

    private static readonly Option<string> Store = new("--store") { Description = "A setup `smartcity bench fill` wrote (its node-bj.json names the store: embedded or PostgreSQL)", HelpName = "DIR", Required = true };
    private static readonly Option<string> Phases = new("--phases") { Description = "What to measure after the restart and the proofs, comma-separated: audit, verify-chain", HelpName = "LIST", DefaultValueFactory = _ => "audit,verify-chain" };
    private static readonly Option<int> Proofs = new("--proofs") { Description = "Random credit records of the fill proved after reopening (each receipt verified offline)", HelpName = "N", DefaultValueFactory = _ => 2_000 };
    private static readonly Option<int> AuditBlocks = new("--audit-blocks") { Description = "Blocks per chain-audit run (the job's runs; RSS is sampled between them)", HelpName = "N", DefaultValueFactory = _ => 50 };
    private static readonly Option<int> CeilingSignatures = new("--ceiling-signatures") { Description = "Stored signatures the 2-core batch verifier checks for the ceiling, before and after each phase", HelpName = "N", DefaultValueFactory = _ => 40_000 };
    private static readonly Option<string> Json = new("--json") { Description = "Also write the results as JSON to this file", HelpName = "FILE" };
    private static readonly Option<string> Markdown = new("--markdown") { Description = "Also write the results (Markdown) to this file", HelpName = "FILE" };

    public Command Create() => new Command("store", "Over a store `bench fill` wrote: node restart time with the state root checked, resident memory, ChainAuditJob and VerifyChain beside the 2-core verify rate")
    {
        Store, Phases, Proofs, AuditBlocks, CeilingSignatures, Json, Markdown,
    }.Handles(RunAsync);

    private static async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken)
    {
        var phases = context.Required(Phases).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        if (phases.FirstOrDefault(p => !KnownPhases.Contains(p)) is { } unknown)
        {
            throw new CliUsageException($"--phases: '{unknown}' is not one of {string.Join(", ", KnownPhases)}");
        }

        var proofs = context.Required(Proofs);
        var auditBlocks = context.Required(AuditBlocks);
        var ceiling = context.Required(CeilingSignatures);
        if (proofs is < 0 or > 1_000_000 || auditBlocks is < 1 or > 1_000_000 || ceiling is < 100 or > 10_000_000)
        {
            throw new CliUsageException("--proofs must be 0-1000000, --audit-blocks 1-1000000, --ceiling-signatures 100-10000000");
        }

        var directory = Path.GetFullPath(context.Required(Store));
        StoreBenchReport report;
        try
        {
            report = await new StoreBench(new StoreBenchOptions(directory, proofs, auditBlocks, phases, ceiling), context.Error).RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (BenchSetupException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (Node.NodeConfigurationException e)
        {
            throw new CliUsageException(e.Message);
        }

        var markdown = StoreBench.Markdown(report);
        await context.Output.WriteAsync(markdown).ConfigureAwait(false);
        if (context.Value(Json) is { } json)
        {
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }) + "\n", cancellationToken).ConfigureAwait(false);
        }

        if (context.Value(Markdown) is { } md)
        {
            await File.WriteAllTextAsync(md, markdown, cancellationToken).ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }
}
