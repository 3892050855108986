using System.CommandLine;
using System.Data.Common;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Score;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;
using Spectre.Console;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// <c>smartcity score SUBJECT --store DIR | --postgres CS [--schema NAME] [--height H] [--genesis FILE] [--json]</c>: a
/// subject's trust score (model v1, docs/score.md) from a node's store, as tables or as the JSON answer, until the
/// credit API serves it over gRPC. At the head it reads the store's state; with <c>--genesis</c> it re-executes the
/// store's blocks up to the height asked and scores that state. Reads only: the embedded store is opened without
/// writing a snapshot, PostgreSQL without migrating.
/// </summary>
internal sealed class ScoreCommand : ICliCommandGroup
{
    private static readonly Argument<string> SubjectArgument = new("SUBJECT")
    {
        Description = "uscc:{Unified Social Credit Code} for a legal person, person:0x{64 hex} (the keyed-hash subject key) for a natural person; never a resident ID number",
    };

    private static readonly Option<string> Store = new("--store")
    {
        Description = "The node's embedded data directory (the node must not be running: the directory is locked)",
        HelpName = "DIR",
    };

    private static readonly Option<string> Postgres = new("--postgres")
    {
        Description = "Npgsql connection string of the node's PostgreSQL store",
        HelpName = "CONNECTION-STRING",
    };

    private static readonly Option<string> Schema = new("--schema")
    {
        Description = "The node's schema in PostgreSQL",
        HelpName = "NAME",
        DefaultValueFactory = _ => "ledger",
    };

    private static readonly Option<long?> Height = new("--height")
    {
        Description = "Score as of this block (default: the head). A store keeps the state of its head only: a lower height needs --genesis, to replay the blocks up to it",
        HelpName = "H",
        CustomParser = result =>
        {
            // A parser, not a validator: a validator reading the value would throw on text that is not a number.
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
            if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var height))
            {
                return height;
            }

            result.AddError($"--height must be 0 or more (a whole block height), got '{text}'");
            return null;
        },
    };

    private static readonly Option<string> Genesis = new("--genesis")
    {
        Description = "The consortium's genesis file: re-execute the store's blocks from it up to H (each must reproduce its certified header) and score that state; needed for a height below the head",
        HelpName = "GENESIS.json",
    };

    private static readonly Option<bool> Json = new("--json")
    {
        Description = "Print the answer as JSON (smartcity.trust-score version 1, docs/score.md) instead of tables",
    };

    public Command Create() => new Command("score", "A subject's trust score (model trust-v1) at the head of a node's store, with its reasons and the objection / human-review notice")
    {
        SubjectArgument, Store, Postgres, Schema, Height, Genesis, Json,
        ApiClientOptions.OptionalApi, ApiClientOptions.OptionalKey, ApiClientOptions.PasswordFile, ApiClientOptions.PasswordEnv, ApiClientOptions.InsecurePlaintext, ApiClientOptions.Purpose,
    }.Handles(ScoreAsync);

    /// <summary>A subject as the ledger knows it; a resident ID number is refused, never hashed here (the key is the consortium's secret).</summary>
    internal static Subject ParseSubject(string text)
    {
        var bare = text.StartsWith(Subject.NaturalPersonPrefix, StringComparison.Ordinal) ? text[Subject.NaturalPersonPrefix.Length..] : text;
        if (ResidentIdNumber.Parse(bare).IsValid)
        {
            throw new CliUsageException("a resident ID number is never used on the ledger: give person:0x{subject key}, the keyed hash of the number (docs/domain.md §1)");
        }

        if (UnifiedSocialCreditCode.Parse(bare).IsValid && ReferenceEquals(bare, text))
        {
            throw new CliUsageException($"a legal person is given as uscc:{bare}");
        }

        if (bare.Length == ResidentIdNumber.Length && bare[..17].All(char.IsAsciiDigit))
        {
            throw new CliUsageException("this looks like a resident ID number, which is never used on the ledger: give person:0x{subject key} (docs/domain.md §1)");
        }

        var parsed = Subject.Parse(text);
        return parsed.IsValid ? parsed.Value : throw new CliUsageException($"SUBJECT '{text}': {parsed.Error}: {parsed.Detail}");
    }

    private static async Task<int> ScoreAsync(CliContext context, CancellationToken cancellationToken)
    {
        var subject = ParseSubject(context.ParseResult.GetRequiredValue(SubjectArgument));
        var height = context.Value(Height);
        if (context.Value(ApiClientOptions.OptionalApi) is not null)
        {
            return await ScoreOverApiAsync(context, subject, height, cancellationToken).ConfigureAwait(false);
        }

        if (context.Value(ApiClientOptions.OptionalKey) is not null || context.Value(ApiClientOptions.Purpose) is not null)
        {
            throw new CliUsageException("--key and --purpose sign requests to the credit API: give --api URL too, or drop them to read a store");
        }

        var genesis = await GenesisAsync(context, cancellationToken).ConfigureAwait(false);
        await using var store = await OpenAsync(context, cancellationToken).ConfigureAwait(false);
        ScoreResult result;
        try
        {
            if (genesis is null)
            {
                result = await TrustScores.ScoreAsync(store, subject, height, null, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var at = height ?? (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false))?.Height ?? 0;
                result = await TrustScores.ScoreByReplayAsync(store, genesis, genesis.Crypto.CreateSuite().Signatures, subject, at, null, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is StoreException or DbException)
        {
            throw new CliUsageException($"store: {e.Message}");
        }

        if (!result.IsScored)
        {
            throw new CliUsageException($"{result.Failure}: {result.Detail}");
        }

        var score = result.Score!;
        if (context.Value(Json))
        {
            await context.Output.WriteLineAsync(TrustScoreJson.Write(score)).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        var names = await MemberNamesAsync(store, score, cancellationToken).ConfigureAwait(false);
        await RenderAsync(context, score, names).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    /// <summary>
    /// <c>score SUBJECT --api URL --key FILE --genesis FILE</c>: the score from the node's CreditService.GetTrustScore,
    /// signed with the member's key (the read is written to the node's access log); the genesis gives the chain id.
    /// </summary>
    private static async Task<int> ScoreOverApiAsync(CliContext context, Subject subject, long? height, CancellationToken cancellationToken)
    {
        if (context.Value(Store) is not null || context.Value(Postgres) is not null)
        {
            throw new CliUsageException("give either --api URL or a store (--store DIR / --postgres CONNECTION-STRING), not both");
        }

        var genesisPath = context.Value(Genesis) ?? throw new CliUsageException("--genesis FILE is required with --api: its chain id is part of every signed request");
        var genesis = await ApiClientOptions.GenesisAsync(genesisPath, cancellationToken).ConfigureAwait(false);
        var (client, signer) = ApiClientOptions.Open(context, genesis, "CREDIT_CHECK", ApiClientOptions.OptionalApi, ApiClientOptions.OptionalKey);
        using var _ = signer;
        using var __ = client;
        var answer = await ApiClientOptions.CallAsync(() => client.Credit.GetTrustScoreAsync(new Contracts.Credit.V1.GetTrustScoreRequest { Subject = subject.ToString(), Height = height ?? 0 }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        if (context.Value(Json))
        {
            await context.Output.WriteLineAsync(answer.AnswerJson).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        var output = context.Output;
        await output.WriteLineAsync($"{answer.Subject}: {answer.Score} ({answer.Band}){(answer.Listed ? ", on a black list" : string.Empty)}").ConfigureAwait(false);
        await output.WriteLineAsync($"  model {answer.ModelVersion}, block {answer.Height} ({answer.HeaderHash}) at {answer.AsOf}, from {context.Value(ApiClientOptions.OptionalApi)}").ConfigureAwait(false);
        await output.WriteLineAsync("  the reasons, record ids, legal bases and the objection notice: --json (docs/score.md)").ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private static async Task<GenesisDocument?> GenesisAsync(CliContext context, CancellationToken cancellationToken)
    {
        if (context.Value(Genesis) is not { } path)
        {
            return null;
        }

        var genesis = GenesisLoader.Load(await CliFiles.ReadTextAsync("genesis", path, cancellationToken).ConfigureAwait(false));
        return genesis.IsValid ? genesis.Document! : throw new CliUsageException($"genesis {path}: {genesis.Errors[0]}");
    }

    private static async Task<ILedgerStore> OpenAsync(CliContext context, CancellationToken cancellationToken)
    {
        var directory = context.Value(Store);
        var connection = context.Value(Postgres);
        if ((directory is null) == (connection is null))
        {
            throw new CliUsageException("give exactly one of --store DIR and --postgres CONNECTION-STRING");
        }

        try
        {
            if (directory is not null)
            {
                if (!Directory.Exists(Path.Combine(directory, "segments")))
                {
                    throw new CliUsageException($"--store: '{directory}' is not a node's data directory (no segments/)");
                }

                return await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = directory, SnapshotOnClose = false }, cancellationToken).ConfigureAwait(false);
            }

            return await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = connection!, Schema = context.Required(Schema), MigrateOnOpen = false }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreException or DbException or ArgumentException)
        {
            throw new CliUsageException($"{(directory is null ? "--postgres" : "--store")}: {e.Message}");
        }
    }

    /// <summary>The names of the members the answer cites, from <c>member/{address}</c> at the store's head (for display only).</summary>
    private static async Task<Dictionary<Address, string>> MemberNamesAsync(ILedgerStore store, TrustScore score, CancellationToken cancellationToken)
    {
        var names = new Dictionary<Address, string>();
        // State keys hash in the chain's crypto suite, which the head header names.
        var head = await store.GetHeadAsync(cancellationToken).ConfigureAwait(false);
        var stored = head is null ? null : await store.GetHeaderAsync(head.Value.Height, cancellationToken).ConfigureAwait(false);
        if (stored is null || !Ledger.Blocks.BlockHeader.TryDecode(stored.Header.Span, out var header, out _))
        {
            return names;
        }

        var suite = CryptoSuite.For(header!.Crypto);
        var members = score.Reasons.Select(r => r.SourceMember).Concat(score.ListEntries.Select(e => e.Initiator)).Concat(score.Disputed.Select(d => d.SourceMember));
        foreach (var member in members.Where(m => !m.IsZero).Distinct())
        {
            if (await store.GetStateAsync(StateKeys.Member(member).HashIn(suite), cancellationToken).ConfigureAwait(false) is { } value)
            {
                names[member] = StateValue.Decode(value, MemberState.Read).Name;
            }
        }

        return names;
    }

    private static async Task RenderAsync(CliContext context, TrustScore score, Dictionary<Address, string> names)
    {
        string Member(Address address) => address.IsZero ? "" : names.TryGetValue(address, out var name) ? $"{name} ({address})" : address.ToString();
        static string Date(DateTimeOffset? time) => time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : "";
        var console = context.Console;
        var counts = score.Counts;
        var excluded = string.Join(", ", new[] { ("disputed", counts.Disputed), ("repaired", counts.Repaired), ("expired", counts.Expired), ("annulled", counts.Annulled), ("not published", counts.NotPublished), ("superseded", counts.Superseded), ("not scored", counts.NotScored) }
            .Where(c => c.Item2 > 0).Select(c => $"{c.Item2} {c.Item1}"));

        var summary = new Grid().AddColumn().AddColumn();
        Row(summary, "subject", score.Subject.Text);
        Row(summary, "score", $"{score.Score} of 1000, band {score.Band}{(score.Listed ? ", LISTED (band capped at D)" : "")}");
        Row(summary, "model", score.ModelVersion);
        Row(summary, "block", $"{score.Height} ({score.HeaderHash}), as of {score.AsOf.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}");
        Row(summary, "records", $"{counts.Included} counted, {counts.Excluded} not counted{(excluded.Length > 0 ? $" ({excluded})" : "")}");
        Row(summary, "points", $"{score.BasePoints} base {Signed(score.RawPoints - score.BasePoints - score.OtherPoints)} shown reasons {Signed(score.OtherPoints)} other = {score.RawPoints}{(score.RawPoints != score.Score ? $", clamped to {score.Score}" : "")}");
        console.Write(summary);

        // One row per item, its details in a nested grid: ids, names and texts stay on one line each at any width that fits them.
        if (score.Reasons.Count > 0)
        {
            var reasons = new Table().Title("Top reasons (largest effect first)").AddColumns("code", "points", "reason");
            foreach (var reason in score.Reasons)
            {
                var details = Details(
                    (reason.Code == ReasonCode.BlackListed ? "entries" : "records", string.Join("\n", reason.RecordIds)),
                    ("member", Member(reason.SourceMember)),
                    ("legal basis", reason.LegalBasis),
                    ("repair from", Date(reason.RepairEligibleAt)));
                reasons.AddRow(new Text(reason.Text.Code), new Text(Signed(reason.Points)), new Rows(new Text(reason.Text.English), new Text(reason.Text.Chinese), details));
            }

            console.Write(reasons);
        }

        if (score.ListEntries.Count > 0)
        {
            var entries = new Table().Title("Active list entries").AddColumns("list", "type", "entry");
            foreach (var entry in score.ListEntries)
            {
                var details = Details(
                    ("entry", entry.EntryId.ToString()),
                    ("region", entry.Region),
                    ("initiator", Member(entry.Initiator)),
                    ("legal basis", entry.LegalBasis),
                    ("in force", $"{Date(entry.EffectiveFrom)} to {(entry.ExpiresAt is null ? "(open)" : Date(entry.ExpiresAt))}"),
                    ("measures", entry.Measures.Count == 0 ? "(no memorandum in force)" : string.Join("\n", entry.Measures.Select(m => $"{string.Join(", ", m.Measures)} in {string.Join(", ", m.Regions)} ({m.Title})"))));
                entries.AddRow(new Text(entry.Colour == ListColour.Black ? "black" : "red"), new Text(entry.ListType), details);
            }

            console.Write(entries);
        }

        if (score.Disputed.Count > 0)
        {
            var disputed = new Table().Title("Disputed records (shown, not counted)").AddColumns("would count as", "record");
            foreach (var record in score.Disputed)
            {
                var details = Details(
                    ("record", record.RecordId.ToString()),
                    ("designator", Member(record.SourceMember)),
                    ("objection", record.ObjectionId.ToString()),
                    ("filed", Date(record.FiledAt)),
                    ("answer due", Date(record.AnswerDueBy) + (record.Overdue ? " (OVERDUE)" : "")));
                disputed.AddRow(new Text(record.WouldCountAs is { } would ? $"{would.Code} {would.English}" : "(not scored)"), details);
            }

            console.Write(disputed);
        }

        // The notice as plain paragraphs (the terminal wraps them), so no word of it is split by the renderer.
        var output = context.Output;
        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteLineAsync("Your rights / 您的权利").ConfigureAwait(false);
        await output.WriteLineAsync(score.Notice.Chinese).ConfigureAwait(false);
        await output.WriteLineAsync(score.Notice.English).ConfigureAwait(false);
    }

    private static Grid Details(params (string Name, string Value)[] rows)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        foreach (var (name, value) in rows.Where(r => r.Value.Length > 0))
        {
            Row(grid, name, value);
        }

        return grid;
    }

    private static void Row(Grid grid, string name, string value) => grid.AddRow(new Text(name), new Text(value));

    private static string Signed(int points) => points >= 0 ? $"+{points}" : $"-{-points}";
}
