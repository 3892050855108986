using Google.Protobuf;
using Grpc.Core;
using SmartCity.Contracts.Audit.V1;
using SmartCity.CreditApi.Node;
using SmartCity.CreditApi.Services.Api;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.Receipts;
using AccessLogEntryMessage = SmartCity.Contracts.Audit.V1.AccessLogEntry;

namespace SmartCity.CreditApi.Services;

/// <summary>smartcity.audit.v1.AuditService: what a regulator checks the ledger and the access log with (docs/api.md).</summary>
public sealed partial class AuditServiceImpl(LedgerRuntime ledger, AccessLogWriter accessLog, AccessLogAudit audit, ISignatureScheme curve, IHostApplicationLifetime lifetime) : AuditService.AuditServiceBase
{
    public const int DefaultAccessLogPage = 200;
    public const int MaxAccessLogPage = 1000;

    /// <summary>Entries one matching_only call looks at before it answers with what it found and where to continue.</summary>
    public const int MaxAccessLogScan = 100_000;

    /// <summary>A subject filter longer than any subject key the log holds is a bad argument, not an empty answer.</summary>
    public const int MaxFilterSubjectLength = 256;

    public override async Task<GetCertifiedHeaderResponse> GetCertifiedHeader(GetCertifiedHeaderRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var height = ApiRequests.Height(request.Height, "height");
        var node = ledger.Node;
        if (request.Latest)
        {
            var head = node.Head;
            return Header(head.Header, head.Certificate);
        }

        var block = await BlockAsync(node, height, context.CancellationToken).ConfigureAwait(false);
        return Header(block.Header, block.Certificate);
    }

    public override async Task StreamBlocks(StreamBlocksRequest request, IServerStreamWriter<StreamBlocksResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var from = ApiRequests.Height(request.FromHeight, "from_height");
        var to = ApiRequests.Height(request.ToHeight, "to_height");
        if (to != 0 && to < from)
        {
            throw ApiRequests.Invalid($"to_height: {to} is below from_height {from}");
        }

        var node = ledger.Node;
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            await foreach (var block in node.WatchAsync(from, stopping.Token).ConfigureAwait(false))
            {
                var message = new StreamBlocksResponse
                {
                    Height = block.Header.Height,
                    HeaderHash = block.Header.Hash.ToString(),
                    Header = ByteString.CopyFrom(block.Header.Encode()),
                    Certificate = ByteString.CopyFrom(block.Certificate.Encode()),
                };
                message.TransactionIds.AddRange(block.TransactionIds.Select(id => id.ToString()));
                // The call's own token for the write: one cancelled part-way aborts the stream (a reset, not the
                // UNAVAILABLE below); the node's stopping is seen between blocks.
                await responseStream.WriteAsync(message, context.CancellationToken).ConfigureAwait(false);
                if (to != 0 && block.Header.Height >= to)
                {
                    return;
                }

                stopping.Token.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw LedgerErrors.Stopped("the node is shutting down; resume from the last height received + 1");
        }

        throw LedgerErrors.Stopped("the node stopped; resume from the last height received + 1");
    }

    public override async Task<GetTransactionResponse> GetTransaction(GetTransactionRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var id = ApiRequests.Hash(request.TransactionId, "transaction_id");
        var caller = ApiCaller.Of(context);
        var node = ledger.Node;
        var location = await node.Blocks.GetTransactionAsync(id, context.CancellationToken).ConfigureAwait(false)
            ?? throw ApiRequests.NotFound("UnknownTransaction", $"transaction {id} is not committed");
        var receipt = await node.ProveTransactionAsync(id, context.CancellationToken).ConfigureAwait(false)
            ?? throw ApiRequests.NotFound("UnknownTransaction", $"transaction {id} is not committed");
        var response = new GetTransactionResponse
        {
            TransactionId = id.ToString(),
            Transaction = ByteString.CopyFrom(location.Bytes.Span),
            Height = location.Height,
            IndexInBlock = location.IndexInBlock,
            ReceiptJson = ReceiptJson.Write(receipt),
        };
        await accessLog.RecordAsync(caller, $"transaction/{id}", response, context.CancellationToken).ConfigureAwait(false);
        return response;
    }

    public override async Task<GetConsistencyProofResponse> GetConsistencyProof(GetConsistencyProofRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var from = ApiRequests.Height(request.FromHeight, "from_height");
        var to = ApiRequests.Height(request.ToHeight, "to_height");
        var receipt = await ledger.Node.ReadChainAsync(chain => Consistency(chain, from, to), context.CancellationToken).ConfigureAwait(false);
        return new GetConsistencyProofResponse { FromHeight = receipt.FromHeader.Height, ToHeight = receipt.Header.Height, ReceiptJson = ReceiptJson.Write(receipt) };
    }

    private static ConsistencyReceipt Consistency(LedgerChain chain, long from, long to)
    {
        var head = chain.Head.Height;
        var target = to == 0 ? head : to;
        if (target > head)
        {
            throw ApiRequests.NotFound("UnknownHeight", $"to_height {to} is above the head {head}");
        }

        if (from > target)
        {
            throw ApiRequests.Invalid($"from_height: {from} is above to_height {target}");
        }

        var earlier = chain.Blocks[(int)from];
        var later = chain.Blocks[(int)target];
        var tree = new HistoryTree(chain.HeadForBuilding.HistoryNodes, chain.Head.HistorySize);
        var proof = tree.ProveConsistency(earlier.Header.HistorySize, later.Header.HistorySize);
        var handOvers = chain.HandOverEvidenceBelowAsync(later.Header.Height, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        if (!handOvers.IsFound)
        {
            throw ApiRequests.NotFound(handOvers.Error.ToString(), handOvers.Message);
        }

        return new ConsistencyReceipt(chain.Head.ChainId, earlier.Header, earlier.Certificate, later.Header, later.Certificate, proof) { HandOvers = [.. handOvers.Value!] };
    }

    public override async Task VerifyChain(VerifyChainRequest request, IServerStreamWriter<VerifyChainResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var from = ApiRequests.Height(request.FromHeight, "from_height");
        var to = ApiRequests.Height(request.ToHeight, "to_height");
        var node = ledger.Node;
        var head = node.Head.Height;
        var target = to == 0 ? head : to;
        if (target > head)
        {
            throw ApiRequests.NotFound("UnknownHeight", $"to_height {to} is above the head {head}");
        }

        if (from > target)
        {
            throw ApiRequests.Invalid($"from_height: {from} is above to_height {target}");
        }

        var verifier = new ChainVerifier(node, curve);
        await foreach (var verdict in verifier.VerifyAsync(from, target, context.CancellationToken).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(verdict, context.CancellationToken).ConfigureAwait(false);
        }
    }

    public override async Task<GetAccessLogResponse> GetAccessLog(GetAccessLogRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (request.FromSequence < 0)
        {
            throw ApiRequests.Invalid($"from_sequence: 0 or more, got {request.FromSequence}");
        }

        var limit = ApiRequests.PageSize(request.Limit, MaxAccessLogPage, DefaultAccessLogPage, "limit");
        Address? requester = null;
        if (request.Requester.Length > 0)
        {
            requester = Address.TryParse(request.Requester, out var address, out _) ? address : throw ApiRequests.Invalid("requester: not a 0x address");
        }

        if (request.FromTimestamp < 0)
        {
            throw ApiRequests.Invalid($"from_timestamp: Unix milliseconds, 0 or more, got {request.FromTimestamp}");
        }

        if (request.ToTimestamp < 0 || (request.ToTimestamp != 0 && request.ToTimestamp <= request.FromTimestamp))
        {
            throw ApiRequests.Invalid($"to_timestamp: 0 (unbounded) or after from_timestamp {request.FromTimestamp}, got {request.ToTimestamp}");
        }

        if (request.Subject.Length > MaxFilterSubjectLength)
        {
            throw ApiRequests.Invalid($"subject: at most {MaxFilterSubjectLength} characters, got {request.Subject.Length}");
        }

        bool Matches(Ledger.Storage.AccessLogEntry entry) =>
            (request.Subject.Length == 0 || entry.Request.Subject == request.Subject)
            && (requester is null || entry.Request.Requester == requester)
            && entry.Request.Timestamp >= request.FromTimestamp
            && (request.ToTimestamp == 0 || entry.Request.Timestamp < request.ToTimestamp);

        var caller = ApiCaller.Of(context);
        var log = ledger.Node.AccessLog;
        var (whole, headHash) = await audit.CheckAsync(log, context.CancellationToken).ConfigureAwait(false);
        var response = new GetAccessLogResponse { HeadSequence = whole.EntriesChecked - 1, ChainIntact = whole.IsIntact, NextSequence = request.FromSequence };
        if (whole.FirstBrokenSequence is { } broken)
        {
            response.FirstBrokenSequence = broken;
        }
        else if (whole.EntriesChecked > 0)
        {
            response.HeadHash = headHash.ToString();
        }

        if (!request.MatchingOnly)
        {
            var entries = await log.ReadAccessLogAsync(request.FromSequence, limit, context.CancellationToken).ConfigureAwait(false);
            foreach (var entry in entries)
            {
                response.Entries.Add(Message(entry));
                if (Matches(entry))
                {
                    response.MatchingSequences.Add(entry.Sequence);
                }

                response.NextSequence = entry.Sequence + 1;
            }
        }
        else
        {
            var scanned = 0L;
            while (response.Entries.Count < limit && scanned < MaxAccessLogScan)
            {
                var chunk = await log.ReadAccessLogAsync(response.NextSequence, AccessLogAudit.ChunkSize, context.CancellationToken).ConfigureAwait(false);
                foreach (var entry in chunk)
                {
                    scanned++;
                    response.NextSequence = entry.Sequence + 1;
                    if (Matches(entry))
                    {
                        response.Entries.Add(Message(entry));
                        response.MatchingSequences.Add(entry.Sequence);
                        if (response.Entries.Count == limit)
                        {
                            break;
                        }
                    }

                    if (scanned == MaxAccessLogScan)
                    {
                        break;
                    }
                }

                if (chunk.Count < AccessLogAudit.ChunkSize)
                {
                    break;
                }
            }
        }

        await accessLog.RecordAsync(caller, request.Subject.Length > 0 ? request.Subject : "access-log", response, context.CancellationToken).ConfigureAwait(false);
        return response;
    }

    private static AccessLogEntryMessage Message(Ledger.Storage.AccessLogEntry entry) => new()
    {
        Sequence = entry.Sequence,
        Requester = entry.Request.Requester.ToString(),
        Method = entry.Request.Method,
        Subject = entry.Request.Subject,
        Timestamp = entry.Request.Timestamp,
        RequestDigest = entry.Request.RequestDigest.ToString(),
        Signature = ByteString.CopyFrom(entry.Request.Signature.Span),
        PreviousHash = entry.PreviousHash.ToString(),
        EntryHash = entry.EntryHash.ToString(),
    };

    private static async Task<CommittedBlockEvent> BlockAsync(LedgerNode node, long height, CancellationToken cancellationToken)
    {
        if (height > node.Head.Height)
        {
            throw ApiRequests.NotFound("UnknownHeight", $"height {height} is above the head {node.Head.Height}");
        }

        return await node.GetBlockEventAsync(height, cancellationToken).ConfigureAwait(false);
    }

    private static GetCertifiedHeaderResponse Header(BlockHeader header, CommitCertificate certificate) => new()
    {
        Height = header.Height,
        HeaderHash = header.Hash.ToString(),
        Header = ByteString.CopyFrom(header.Encode()),
        Certificate = ByteString.CopyFrom(certificate.Encode()),
        BlockTime = header.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        StateRoot = header.StateRoot.ToString(),
        HistoryRoot = header.HistoryRoot.ToString(),
        HistorySize = header.HistorySize,
        TransactionCount = header.TransactionCount,
    };
}
