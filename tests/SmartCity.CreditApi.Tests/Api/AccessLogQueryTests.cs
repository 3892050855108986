using Grpc.Core;
using SmartCity.Contracts.Audit.V1;
using SmartCity.Contracts.Credit.V1;
using SmartCity.CreditApi.Services.Api;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Storage;
using StoredEntry = SmartCity.Ledger.Storage.AccessLogEntry;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// GetAccessLog's filters (subject, requester, time range) over the whole log, not only the page read, with paging by
/// next_sequence; its refusals of bad filters; and the node's incremental re-check of the hash chain, which hashes each
/// entry once however often the log is read.
/// </summary>
public sealed class AccessLogQueryTests : IAsyncLifetime
{
    private const string Other = "uscc:91110000MA0000008A";
    private readonly ApiNode _api = new();

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    /// <summary>Seven reads: the bank and the bureau alternately score the holder and another subject.</summary>
    private async Task ReadSevenTimesAsync()
    {
        var bank = _api.Client(ApiNode.Bank, "LOAN_REVIEW");
        var bureau = _api.Client(ApiNode.Bureau);
        for (var i = 0; i < 7; i++)
        {
            var client = i % 2 == 0 ? bank : bureau;
            await client.Credit.GetTrustScoreAsync(new GetTrustScoreRequest { Subject = i % 3 == 0 ? Other : ApiNode.Holder });
        }
    }

    [Fact]
    public async Task Matching_only_pages_through_the_whole_log_for_one_subject_and_continues_from_next_sequence()
    {
        await ReadSevenTimesAsync();
        var regulator = _api.Client(ApiNode.Regulator, "SUPERVISION");

        var first = await regulator.Audit.GetAccessLogAsync(new GetAccessLogRequest { Subject = ApiNode.Holder, MatchingOnly = true, Limit = 2 });
        var second = await regulator.Audit.GetAccessLogAsync(new GetAccessLogRequest { Subject = ApiNode.Holder, MatchingOnly = true, Limit = 2, FromSequence = first.NextSequence });
        var third = await regulator.Audit.GetAccessLogAsync(new GetAccessLogRequest { Subject = ApiNode.Holder, MatchingOnly = true, Limit = 2, FromSequence = second.NextSequence });

        // Holder reads are sequences 1, 2, 4, 5 (0, 3 and 6 are the other subject); later entries are the regulator's own reads.
        Assert.Equal([1L, 2L], first.Entries.Select(e => e.Sequence));
        Assert.Equal(3L, first.NextSequence);
        Assert.Equal([4L, 5L], second.Entries.Select(e => e.Sequence));
        Assert.Equal(6L, second.NextSequence);
        Assert.All(third.Entries, e => Assert.StartsWith("/smartcity.audit.v1.AuditService/GetAccessLog;", e.Method, StringComparison.Ordinal));
        Assert.Equal(third.HeadSequence + 1, third.NextSequence);
        Assert.All(first.Entries.Concat(second.Entries), e => Assert.Equal(ApiNode.Holder, e.Subject));
        Assert.All(new[] { first, second, third }, page => Assert.True(page.ChainIntact));
        Assert.All(first.Entries.Concat(second.Entries), e => Assert.Equal(e.EntryHash, AccessLogChain.ComputeEntryHash(e.Sequence, Request(e), Hash256.Parse(e.PreviousHash)).ToString()));
    }

    [Fact]
    public async Task Requester_and_time_filters_select_across_the_whole_log_and_all_given_filters_must_match()
    {
        await ReadSevenTimesAsync();
        var stored = await _api.AccessLogAsync();
        var regulator = _api.Client(ApiNode.Regulator, "SUPERVISION");
        var bank = _api.AddressOf(ApiNode.Bank).ToString();

        var byBank = await regulator.Audit.GetAccessLogAsync(new GetAccessLogRequest { Requester = bank, MatchingOnly = true });
        var bankAboutHolder = await regulator.Audit.GetAccessLogAsync(new GetAccessLogRequest { Requester = bank, Subject = ApiNode.Holder, MatchingOnly = true });
        var fromFourth = await regulator.Audit.GetAccessLogAsync(new GetAccessLogRequest { FromTimestamp = stored[3].Request.Timestamp, ToTimestamp = stored[6].Request.Timestamp, MatchingOnly = true });
        var window = await regulator.Audit.GetAccessLogAsync(new GetAccessLogRequest { Requester = bank, Limit = 3 });

        Assert.Equal([0L, 2L, 4L, 6L], byBank.Entries.Select(e => e.Sequence));
        Assert.Equal([2L, 4L], bankAboutHolder.Entries.Select(e => e.Sequence));
        var expected = stored.Where(e => e.Request.Timestamp >= stored[3].Request.Timestamp && e.Request.Timestamp < stored[6].Request.Timestamp).Select(e => e.Sequence);
        Assert.Equal(expected, fromFourth.Entries.Select(e => e.Sequence));
        Assert.Contains(3L, fromFourth.MatchingSequences);

        // Without matching_only the window is returned whole so its chain can be recomputed, the matches marked.
        Assert.Equal([0L, 1L, 2L], window.Entries.Select(e => e.Sequence));
        Assert.Equal([0L, 2L], window.MatchingSequences);
        Assert.Equal(3L, window.NextSequence);
        Assert.True(AccessLogChain.Verify(window.Entries.Select(e => new StoredEntry(e.Sequence, Request(e), Hash256.Parse(e.PreviousHash), Hash256.Parse(e.EntryHash)))).IsIntact);
    }

    [Fact]
    public async Task Bad_access_log_filters_are_invalid_argument_naming_the_field_and_log_nothing()
    {
        await ReadSevenTimesAsync();
        var regulator = _api.Client(ApiNode.Regulator, "SUPERVISION");

        async Task<string> FieldOfAsync(GetAccessLogRequest request)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => regulator.Audit.GetAccessLogAsync(request).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            return Assert.Single(error.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations).Field;
        }

        Assert.Equal("from_sequence", await FieldOfAsync(new GetAccessLogRequest { FromSequence = -1 }));
        Assert.Equal("requester", await FieldOfAsync(new GetAccessLogRequest { Requester = "0x1234" }));
        Assert.Equal("from_timestamp", await FieldOfAsync(new GetAccessLogRequest { FromTimestamp = -5 }));
        Assert.Equal("to_timestamp", await FieldOfAsync(new GetAccessLogRequest { FromTimestamp = 2_000, ToTimestamp = 1_000 }));
        Assert.Equal("to_timestamp", await FieldOfAsync(new GetAccessLogRequest { FromTimestamp = 2_000, ToTimestamp = 2_000 }));
        Assert.Equal("subject", await FieldOfAsync(new GetAccessLogRequest { Subject = new string('x', 300) }));
        Assert.Equal("limit", await FieldOfAsync(new GetAccessLogRequest { Limit = -1 }));
        var tooMany = await Assert.ThrowsAsync<RpcException>(() => regulator.Audit.GetAccessLogAsync(new GetAccessLogRequest { Limit = 1001 }).ResponseAsync);
        Assert.Equal((StatusCode.ResourceExhausted, "PAGE_TOO_LARGE"), (tooMany.StatusCode, ApiNode.Reason(tooMany)));
        Assert.Equal(7, (await _api.AccessLogAsync()).Count);
    }

    [Fact]
    public async Task The_node_re_hashes_each_entry_once_however_often_the_log_is_checked()
    {
        var store = new CountingLog(Enumerable.Range(0, 10_000).Select(i => Entry(i)));
        using var audit = new AccessLogAudit();

        var first = await audit.CheckAsync(store, CancellationToken.None);
        var again = await audit.CheckAsync(store, CancellationToken.None);
        store.Append(Entry(10_000));
        var after = await audit.CheckAsync(store, CancellationToken.None);

        Assert.Equal((10_000L, true), (first.Verification.EntriesChecked, first.Verification.IsIntact));
        Assert.Equal(first, again);
        Assert.Equal((10_001L, true, store.Last.EntryHash), (after.Verification.EntriesChecked, after.Verification.IsIntact, after.HeadHash));
        Assert.Equal(10_001, store.EntriesRead);
    }

    [Fact]
    public async Task A_broken_link_is_reported_at_its_sequence_and_stays_reported()
    {
        var entries = Enumerable.Range(0, 50).Select(i => Entry(i)).ToList();
        var store = new CountingLog(entries);
        store.Replace(30, entries[30] with { Request = entries[30].Request with { Subject = "edited" } });
        using var audit = new AccessLogAudit();

        var first = await audit.CheckAsync(store, CancellationToken.None);
        store.Append(Entry(50));
        var later = await audit.CheckAsync(store, CancellationToken.None);

        Assert.Equal((30L, 30L), (first.Verification.EntriesChecked, first.Verification.FirstBrokenSequence));
        Assert.Equal(first.Verification, later.Verification);
    }

    private static AccessRequest Request(Contracts.Audit.V1.AccessLogEntry e)
        => new(Address.Parse(e.Requester), e.Method, e.Subject, e.Timestamp, Hash256.Parse(e.RequestDigest), e.Signature.ToByteArray());

    private static readonly List<StoredEntry> Chain = [];

    private static StoredEntry Entry(int sequence)
    {
        lock (Chain)
        {
            while (Chain.Count <= sequence)
            {
                var previous = Chain.Count == 0 ? Hash256.Zero : Chain[^1].EntryHash;
                var request = new AccessRequest(Address.Parse("0x00000000000000000000000000000000000000a1"), "/m;purpose=P;result=0x00", $"uscc:{Chain.Count}", 1_000 + Chain.Count, Hash256.Zero, new byte[65]);
                Chain.Add(AccessLogChain.Seal(Chain.Count, request, previous));
            }

            return Chain[sequence];
        }
    }

    /// <summary>An access log in memory that counts the entries read from it.</summary>
    private sealed class CountingLog(IEnumerable<StoredEntry> entries) : IAccessLogStore
    {
        private readonly List<StoredEntry> _entries = [.. entries];

        public long EntriesRead { get; private set; }

        public StoredEntry Last => _entries[^1];

        public void Append(StoredEntry entry) => _entries.Add(entry);

        public void Replace(int sequence, StoredEntry entry) => _entries[sequence] = entry;

        public ValueTask<StoredEntry> AppendAccessAsync(AccessRequest request, CancellationToken cancellationToken) => throw new NotSupportedException("read-only in this test");

        public ValueTask<IReadOnlyList<StoredEntry>> AppendAccessBatchAsync(IReadOnlyList<AccessRequest> requests, CancellationToken cancellationToken) => throw new NotSupportedException("read-only in this test");

        public ValueTask<IReadOnlyList<StoredEntry>> ReadAccessLogAsync(long fromSequence, int limit, CancellationToken cancellationToken)
        {
            var page = _entries.Skip((int)fromSequence).Take(limit).ToList();
            EntriesRead += page.Count;
            return ValueTask.FromResult<IReadOnlyList<StoredEntry>>(page);
        }

        public ValueTask<AccessLogVerification> VerifyAccessLogAsync(CancellationToken cancellationToken) => ValueTask.FromResult(AccessLogChain.Verify(_entries));
    }
}
