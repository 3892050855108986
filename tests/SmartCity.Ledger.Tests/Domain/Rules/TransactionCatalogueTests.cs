using System.Text;
using System.Text.RegularExpressions;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Domain.Rules;

/// <summary>
/// The catalogue (<see cref="TransactionRules"/>) is the one description of every kind: docs/domain.md prints it (the
/// tables between the <c>generated:</c> markers are compared here; SMARTCITY_WRITE_DOCS=1 rewrites them) and the
/// engine runs it.
/// </summary>
public sealed partial class TransactionCatalogueTests
{
    private const string DocsPath = "docs/domain.md";

    [Fact]
    public void Every_transaction_kind_has_one_row_in_the_catalogue()
        => Assert.Equal(TransactionCatalogue.Kinds.Order(), TransactionRules.All.Select(r => r.Kind));

    [Fact]
    public void The_checks_of_every_kind_run_in_ascending_code_order_after_the_envelope()
    {
        foreach (var rule in TransactionRules.All)
        {
            Assert.Equal(rule.Checks.Order(), rule.Checks);
            Assert.DoesNotContain(rule.Checks, TransactionRules.EnvelopeChecks.Contains);
        }
    }

    [Fact]
    public void The_field_table_in_docs_domain_md_is_generated_from_the_eip712_schema()
        => AssertGenerated("transaction-fields", FieldTable());

    [Fact]
    public void The_authorization_matrix_in_docs_domain_md_is_generated_from_the_catalogue()
        => AssertGenerated("authorization-matrix", AuthorizationMatrix());

    [Fact]
    public void The_licence_lifecycle_in_docs_domain_md_is_generated_from_the_catalogue()
        => AssertGenerated("licence-lifecycle", LicenceLifecycle());

    [Fact]
    public void The_rejection_code_table_in_docs_domain_md_lists_every_code_in_check_order()
    {
        var docs = RepositoryFiles.Read(DocsPath);
        var table = docs[docs.IndexOf("| RejectionCode | Rule |", StringComparison.Ordinal)..];
        table = table[..table.IndexOf("\n\n", StringComparison.Ordinal)];
        var listed = CodeCell().Matches(table).SelectMany(m => m.Groups[1].Value.Split(" / ")).Select(c => Enum.Parse<RejectionCode>(c.Trim('`'))).ToList();
        var expected = TransactionRules.EnvelopeChecks.Concat(Enum.GetValues<RejectionCode>().Skip(1).Except(TransactionRules.EnvelopeChecks).Order());
        Assert.Equal(expected, listed);
    }

    [Fact]
    public void Every_kind_that_needs_a_role_refuses_a_member_without_it_as_MissingRole()
    {
        foreach (var rule in TransactionRules.All.Where(r => r.Role != MemberRole.None))
        {
            var ledger = TestLedger.Start();
            var signer = rule.Role == MemberRole.MemorandumPublisher ? TestKeys.BeijingCourt : TestKeys.JointCreditOffice;
            var transition = ledger.Submit(signer, SampleTransactions.OfEveryKind.Single(b => b.Kind == rule.Kind));
            Assert.True(transition.Code == RejectionCode.MissingRole, $"{rule.Kind} by {signer}: {transition}");
        }
    }

    [Fact]
    public void A_kind_without_a_role_is_never_refused_for_a_missing_role()
    {
        foreach (var rule in TransactionRules.All.Where(r => r.Role == MemberRole.None))
        {
            var transition = TestLedger.Start().Submit(TestKeys.JointCreditOffice, SampleTransactions.OfEveryKind.Single(b => b.Kind == rule.Kind));
            Assert.True(transition.Code != RejectionCode.MissingRole, $"{rule.Kind}: {transition}");
        }
    }

    /// <summary>The §3 table: each kind's EIP-712 fields after the nonce, from the one field list of its record.</summary>
    internal static string FieldTable()
    {
        var text = new StringBuilder("| Kind (byte) | Fields after `uint64 nonce` |\n|---|---|\n");
        foreach (var rule in TransactionRules.All)
        {
            text.Append($"| `{rule.Kind}` ({(byte)rule.Kind}) | {string.Join(", ", rule.Schema.Skip(1).Select(m => $"{m.Type} {m.Name}"))} |\n");
        }

        return text.ToString();
    }

    /// <summary>The §5 authorization matrix: role, creates, acts on, owner, region, checks in order and effect.</summary>
    internal static string AuthorizationMatrix()
    {
        var text = new StringBuilder("| Kind | Role | Creates | Acts on | Owner | Region | Checks after the envelope, in order | Effect |\n|---|---|---|---|---|---|---|---|\n");
        foreach (var rule in TransactionRules.All)
        {
            text.Append($"| `{rule.Kind}` | {(rule.Role == MemberRole.None ? "—" : rule.Role.ToString())} | {Objects(rule.Creates)} | {Objects(rule.ActsOn)} | {Owner(rule.Owner)} | {Region(rule.Region)} | {string.Join(", ", rule.Checks.Select(c => $"`{c}`"))} | {rule.Effect} |\n");
        }

        return text.ToString();
    }

    /// <summary>The licence lifecycle: from which recorded statuses each kind moves a licence, and to what.</summary>
    internal static string LicenceLifecycle()
    {
        var text = new StringBuilder("| Kind | From (recorded status) | To | Refused when expired (05) |\n|---|---|---|---|\n");
        foreach (var t in TransactionRules.LicenceLifecycle)
        {
            text.Append($"| `{t.Kind}` | {Statuses(t.From)} | {Statuses(t.To)} | {(t.RefusedWhenExpired ? "yes" : "no")} |\n");
        }

        return text.ToString();

        static string Statuses(IEnumerable<LicenceStatus> statuses) => string.Join(", ", statuses.Select(s => $"{(byte)s:00} {s}"));
    }

    private static string Objects(IReadOnlyList<StateObject> objects) => objects.Count == 0 ? "—" : string.Join(", ", objects.Select(o => o switch
    {
        StateObject.ListEntry => "list entry",
        _ => o.ToString().ToLowerInvariant(),
    }));

    private static string Owner(OwnerRule owner) => owner switch
    {
        OwnerRule.None => "—",
        OwnerRule.RecordDesignator => "the record's designator",
        OwnerRule.NotRecordDesignator => "anyone but the record's designator",
        OwnerRule.LicenceIssuer => "the licence's issuer, whose USCC the identifier names",
        OwnerRule.IdentifierIssuer => "the identifier names the signer's USCC",
        OwnerRule.ListEntryInitiator => "the entry's initiator",
        _ => throw new ArgumentOutOfRangeException(nameof(owner)),
    };

    private static string Region(RegionRule region) => region switch
    {
        RegionRule.None => "—",
        RegionRule.DivisionInSignersRegion => "its division/area code is in the signer's region",
        RegionRule.TargetInSignersRegion => "the object acted on is in the signer's region",
        RegionRule.MemorandumCoversSigner => "the memorandum covers the signer's region",
        RegionRule.MemorandumCoversEntryAndSigner => "the memorandum covers the entry's and the signer's regions",
        _ => throw new ArgumentOutOfRangeException(nameof(region)),
    };

    private static void AssertGenerated(string name, string expected)
    {
        var docs = RepositoryFiles.Read(DocsPath).Replace("\r\n", "\n", StringComparison.Ordinal);
        var begin = $"<!-- generated: {name} (TransactionCatalogueTests; SMARTCITY_WRITE_DOCS=1 rewrites it) -->\n";
        var end = $"<!-- end: {name} -->";
        var from = docs.IndexOf(begin, StringComparison.Ordinal);
        var to = docs.IndexOf(end, StringComparison.Ordinal);
        Assert.True(from >= 0 && to > from, $"{DocsPath} has no '{begin.Trim()}' … '{end}' block");
        var actual = docs[(from + begin.Length)..to];
        if (Environment.GetEnvironmentVariable("SMARTCITY_WRITE_DOCS") == "1" && actual != expected)
        {
            File.WriteAllText(RepositoryFiles.PathOf(DocsPath), docs[..(from + begin.Length)] + expected + docs[to..]);
            actual = expected;
        }

        Assert.Equal(expected, actual);
    }

    [GeneratedRegex(@"^\| (`[A-Za-z]+`(?: / `[A-Za-z]+`)*) \|", RegexOptions.Multiline)]
    private static partial Regex CodeCell();
}
