using Google.Protobuf;
using Grpc.Core;
using SmartCity.Contracts.Node.V1;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.CreditApi.Services;

/// <summary>The ledger calls of NodeService: every refusal goes through <see cref="LedgerErrors"/>.</summary>
public sealed partial class NodeServiceImpl
{
    private const int MaxStateKeyLength = 512;

    public override async Task WatchBlocks(WatchBlocksRequest request, IServerStreamWriter<WatchBlocksResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        if (request.FromHeight < 0)
        {
            throw LedgerErrors.InvalidArgument($"from_height must be 0 or more, got {request.FromHeight}");
        }

        using var lease = subscribers.Enter(context);
        var node = ledger.Node;
        var from = request.OnlyNew ? node.Head.Height + 1 : request.FromHeight;
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            await foreach (var block in node.WatchAsync(from, stopping.Token).ConfigureAwait(false))
            {
                // The call's own token for the write: one cancelled part-way aborts the stream (a reset, not the
                // UNAVAILABLE below); the node's stopping is seen between blocks.
                await responseStream.WriteAsync(BlockResponse(block), context.CancellationToken).ConfigureAwait(false);
                stopping.Token.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw LedgerErrors.Stopped("the node is shutting down");
        }

        throw LedgerErrors.Stopped(node.Head.Fault is { } fault ? $"the node stopped committing: {fault}" : "the node stopped");
    }

    public override async Task<SubmitTransactionResponse> SubmitTransaction(SubmitTransactionRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var result = await ledger.Node.SubmitAsync(request.Transaction.Memory, request.WaitForCommit, context.CancellationToken).ConfigureAwait(false);
        if (!result.IsAccepted)
        {
            throw LedgerErrors.Refused(result);
        }

        var response = new SubmitTransactionResponse { TransactionId = result.Id.ToString(), Status = TransactionStatus.Pending };
        if (result.Outcome is not { } outcome)
        {
            return response;
        }

        return outcome.State switch
        {
            TransactionState.Committed => new SubmitTransactionResponse { TransactionId = result.Id.ToString(), Status = TransactionStatus.Committed, Height = outcome.Height, IndexInBlock = outcome.IndexInBlock },
            TransactionState.Rejected => throw LedgerErrors.Rejected(outcome),
            _ => throw LedgerErrors.Undecided(outcome),
        };
    }

    public override async Task<GetTransactionResponse> GetTransaction(GetTransactionRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var id = TransactionId(request.TransactionId);
        var outcome = await ledger.Node.GetTransactionAsync(id, context.CancellationToken).ConfigureAwait(false);
        return new GetTransactionResponse
        {
            TransactionId = id.ToString(),
            Status = StatusOf(outcome.State),
            Height = Math.Max(outcome.Height, 0),
            IndexInBlock = Math.Max(outcome.IndexInBlock, 0),
            RejectionCode = outcome.State == TransactionState.Rejected ? outcome.Rule.ToString() : string.Empty,
            Reason = outcome.State == TransactionState.Rejected ? outcome.Reason : string.Empty,
        };
    }

    public override async Task<GetReceiptResponse> GetReceipt(GetReceiptRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var node = ledger.Node;
        long? height = request.At is { } at ? at.Height : null;
        if (height is < 0)
        {
            throw LedgerErrors.InvalidArgument($"at.height must be 0 or more, got {height}");
        }

        Receipt receipt;
        try
        {
            switch (request.SubjectCase)
            {
                case GetReceiptRequest.SubjectOneofCase.TransactionId:
                    var id = TransactionId(request.TransactionId);
                    var inclusion = await node.ProveTransactionAsync(id, height, context.CancellationToken).ConfigureAwait(false);
                    if (inclusion.IsFound)
                    {
                        receipt = inclusion.Value!;
                        break;
                    }

                    if (inclusion.Error != ChainQueryError.TransactionNotFound)
                    {
                        throw LedgerErrors.Query(inclusion.Error, inclusion.Message, id);
                    }

                    var outcome = await node.GetTransactionAsync(id, context.CancellationToken).ConfigureAwait(false);
                    throw outcome.State switch
                    {
                        TransactionState.Pending => LedgerErrors.FailedPrecondition("Pending", $"transaction {id} is waiting in the mempool, not committed yet", id),
                        TransactionState.Rejected => LedgerErrors.FailedPrecondition("Rejected", $"transaction {id} was rejected: {outcome.Rule}: {outcome.Reason}", id),
                        _ => LedgerErrors.NotFound("UnknownTransaction", $"no committed transaction {id} on this chain", id),
                    };
                case GetReceiptRequest.SubjectOneofCase.StateKey:
                    var state = await node.ProveStateAsync(StateKeyOf(request.StateKey), height, context.CancellationToken).ConfigureAwait(false);
                    receipt = state.IsFound ? state.Value! : throw LedgerErrors.Query(state.Error, state.Message);
                    break;
                default:
                    throw LedgerErrors.InvalidArgument("name the subject of the receipt: transaction_id or state_key");
            }
        }
        catch (StoreUnavailableException e)
        {
            throw LedgerErrors.StoreUnavailable($"the store cannot be read: {e.Message}");
        }

        return new GetReceiptResponse { ReceiptJson = ReceiptJson.Write(receipt), Height = receipt.Header.Height };
    }

    private LedgerStatus LedgerStatusNow()
    {
        var node = ledger.Node;
        var head = node.Head;
        var status = new LedgerStatus
        {
            ChainId = head.ChainId,
            Height = head.Height,
            HeadHash = head.HeadHash.ToString(),
            StateRoot = head.StateRoot.ToString(),
            HistorySize = head.HistorySize,
            Quorum = head.Validators.Quorum,
            MempoolSize = node.MempoolSize,
            StoreKind = ledger.Startup.StoreKind,
            Certification = ledger.Certification,
            Committing = head.Health == NodeHealth.Running && node.IsCommitting,
            Fault = head.Fault ?? string.Empty,
            HeadTimeMs = head.Header.TimestampMs,
            StateRetainedFrom = node.StateRetainedFrom,
            StateRetentionBlocks = node.StateRetentionBlocks ?? 0,
            OpenedFrom = node.Opening switch { ChainOpening.Genesis => "genesis", ChainOpening.StoredTrees => "stored-trees", _ => "replay" },
            Recovery = RecoveryOf(node.Recovery),
            StoreUnavailable = head.Health == NodeHealth.StoreUnavailable,
        };
        foreach (var address in head.Validators.Members)
        {
            var named = node.Genesis.Validators.FirstOrDefault(v => v.Address == address);
            status.Validators.Add(new Validator { Address = address.ToString(), Name = named?.Name ?? string.Empty, Region = named?.Region ?? string.Empty });
        }

        foreach (var link in ledger.PeerLinks)
        {
            status.Peers.Add(new PeerLinkStatus
            {
                Region = link.Region,
                Validator = link.Validator.ToString(),
                Address = link.Address.ToString(),
                Connected = link.Connected,
                ReportedHead = link.ReportedHead,
                DroppedFrames = link.DroppedFrames,
                Connections = link.Connections,
            });
        }

        return status;
    }

    private static StoreRecovery RecoveryOf(Ledger.Storage.StoreRecoveryReport report)
    {
        var recovery = new StoreRecovery { Clean = report.IsClean, OpenedAtHeight = report.OpenedAtHeight ?? -1, AcknowledgedHeight = report.AcknowledgedHeight ?? -1 };
        recovery.Actions.AddRange(report.Actions.Select(a => new Contracts.Node.V1.RecoveryAction { Kind = a.Kind.ToString(), Detail = a.Detail }));
        return recovery;
    }

    private static WatchBlocksResponse BlockResponse(CommittedBlockEvent block)
    {
        var header = block.Header;
        var response = new WatchBlocksResponse
        {
            Height = header.Height,
            BlockHash = header.Hash.ToString(),
            Header = ByteString.CopyFrom(header.Encode()),
            Certificate = ByteString.CopyFrom(block.Certificate.Encode()),
            PreviousHash = header.PreviousHash.ToString(),
            TimestampMs = header.TimestampMs,
            Proposer = header.Proposer.ToString(),
            Round = header.Round,
            StateRoot = header.StateRoot.ToString(),
            HistorySize = header.HistorySize,
            HistoryRoot = header.HistoryRoot.ToString(),
            TransactionRoot = header.TransactionRoot.ToString(),
            SealCount = block.Certificate.Seals.Length,
        };
        response.TransactionIds.AddRange(block.TransactionIds.Select(id => id.ToString()));
        return response;
    }

    private static TransactionStatus StatusOf(TransactionState state) => state switch
    {
        TransactionState.Pending => TransactionStatus.Pending,
        TransactionState.Committed => TransactionStatus.Committed,
        TransactionState.Rejected => TransactionStatus.Rejected,
        _ => TransactionStatus.Unknown,
    };

    private static Hash256 TransactionId(string text)
        => Hash256.TryParse(text, out var id) ? id : throw LedgerErrors.InvalidArgument($"transaction_id must be 0x and 64 hex digits, got '{Shorten(text)}'");

    /// <summary>State keys are printable ASCII (their hash is Keccak-256 of the ASCII bytes), e.g. <c>licence/…</c>.</summary>
    private static StateKey StateKeyOf(string text)
    {
        if (text.Length is 0 or > MaxStateKeyLength || text.Any(c => c is < '!' or > '~'))
        {
            throw LedgerErrors.InvalidArgument($"state_key must be 1 to {MaxStateKeyLength} printable ASCII characters without spaces, e.g. licence/<identifier>, got '{Shorten(text)}'");
        }

        return new StateKey(text);
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
