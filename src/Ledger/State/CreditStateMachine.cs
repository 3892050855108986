using System.Buffers;
using System.Text;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Regions;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;

namespace SmartCity.Ledger.State;

/// <summary>
/// The ledger's state machine: <c>Apply(state, transaction, block time)</c> → accepted with state writes, or a typed
/// rejection. Pure and deterministic: it reads only the given state, the genesis rules and the block time, does
/// no I/O, and never throws for bad input (a corrupt state is a bug and does throw).
/// </summary>
public sealed partial class CreditStateMachine
{
    private readonly GenesisDocument _genesis;
    private readonly ISignatureScheme _signatures;

    /// <summary>
    /// The state machine of <paramref name="genesis"/>'s chain over <paramref name="signatures"/>, which must be of the
    /// genesis's crypto suite (<see cref="GenesisCrypto.SuiteOver"/>).
    /// </summary>
    public CreditStateMachine(GenesisDocument genesis, ISignatureScheme signatures)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        _genesis = genesis;
        _signatures = signatures;
        Suite = genesis.Crypto.SuiteOver(signatures);
        Domain = genesis.Domain(Suite);
        Regions = new RegionCatalogue(genesis.Regions);
    }

    /// <summary>The chain's crypto suite (from genesis): transaction ids, state keys and every hash of the state.</summary>
    public CryptoSuite Suite { get; }

    /// <summary>The EIP-712 domain transactions are signed under, in the chain's suite; its digest is the transaction hash.</summary>
    public Eip712Domain Domain { get; }

    public RegionCatalogue Regions { get; }

    public ChainParameters Parameters => _genesis.Parameters;

    /// <summary>
    /// The writes that create the genesis state: the chain's parameters (<see cref="StateKeys.ChainParameters"/>: every
    /// field of the genesis, crypto suite and SM2 identifier included, so the genesis hash commits to all of them),
    /// members (with the index of their USCCs), member count, validators and the validator set.
    /// </summary>
    public IReadOnlyList<StateWrite> GenesisWrites()
    {
        var state = new StateOverlay(new InMemoryState(Suite));
        Put(state, StateKeys.ChainParameters, new ChainParametersState(Suite.Name, _genesis.Crypto.Sm2DistinguishingId, GenesisCommitment.Digest(_genesis, Suite)));
        foreach (var m in _genesis.Members)
        {
            Put(state, StateKeys.Member(m.Address), new MemberState(m.Uscc.Value, m.Name, m.Region, m.Roles));
            Put(state, StateKeys.MemberUscc(m.Uscc.Value), new MemberUsccState(m.Address));
        }

        Put(state, StateKeys.MemberCount, new CounterState((ulong)_genesis.Members.Count));
        foreach (var v in _genesis.Validators)
        {
            Put(state, StateKeys.Validator(v.Address), new ValidatorState(v.Name, v.Region));
        }

        Put(state, StateKeys.ValidatorSet, new ValidatorSetState([.. _genesis.Validators.Select(v => v.Address).Order().Select(a => a.ToString().ToLowerInvariant())]));
        return state.Writes;
    }

    /// <summary>Decodes canonical transaction bytes and applies them; oversized or malformed bytes are rejected.</summary>
    public Transition Apply(IStateReader state, ReadOnlyMemory<byte> encoded, DateTimeOffset blockTime)
    {
        if (encoded.Length > Parameters.MaxTransactionBytes)
        {
            return Transition.Rejected(default, RejectionCode.TransactionTooLarge, $"{encoded.Length} bytes exceed the limit of {Parameters.MaxTransactionBytes}");
        }

        var decoded = TransactionCodec.Decode(encoded);
        return decoded.Transaction is { } transaction
            ? ApplyDecoded(state, transaction, blockTime)
            : Transition.Rejected(default, RejectionCode.Malformed, decoded.Error!);
    }

    public Transition Apply(IStateReader state, SignedTransaction transaction, DateTimeOffset blockTime)
    {
        var size = TransactionCodec.Encode(transaction).Length;
        if (size > Parameters.MaxTransactionBytes)
        {
            return Transition.Rejected(transaction.Hash(Domain), RejectionCode.TransactionTooLarge, $"{size} bytes exceed the limit of {Parameters.MaxTransactionBytes}");
        }

        return ApplyDecoded(state, transaction, blockTime);
    }

    /// <summary>
    /// Applies a transaction decoded and signature-checked once on its way in (<see cref="TransactionIntake"/>): the
    /// signer is not recovered again unless it was checked under another domain.
    /// </summary>
    public Transition Apply(IStateReader state, VerifiedTransaction transaction, DateTimeOffset blockTime)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (transaction.Bytes.Length > Parameters.MaxTransactionBytes)
        {
            return Transition.Rejected(transaction.Hash, RejectionCode.TransactionTooLarge, $"{transaction.Bytes.Length} bytes exceed the limit of {Parameters.MaxTransactionBytes}");
        }

        return transaction.DomainSeparator == Domain.Separator
            ? ApplyDecoded(state, transaction.Transaction, transaction.Hash, transaction.Decoded.Digest, signerProven: true, blockTime)
            : ApplyDecoded(state, transaction.Transaction, blockTime);
    }

    private Transition ApplyDecoded(IStateReader state, SignedTransaction tx, DateTimeOffset blockTime)
    {
        var digest = tx.SigningDigest(Domain);
        return ApplyDecoded(state, tx, SignedTransaction.Id(Suite, digest, tx.Signer), digest, signerProven: false, blockTime);
    }

    private Transition ApplyDecoded(IStateReader state, SignedTransaction tx, Hash256 hash, Hash256 digest, bool signerProven, DateTimeOffset blockTime)
    {
        if (tx.ChainId != _genesis.ChainId)
        {
            return Transition.Rejected(hash, RejectionCode.WrongChainId, $"chain {tx.ChainId} is not this consortium's chain {_genesis.ChainId}");
        }

        if (!signerProven)
        {
            var check = _signatures.Recover(digest, tx.Signature, out var recovered);
            if (check != SignatureCheck.Ok)
            {
                return Transition.Rejected(hash, RejectionCode.BadSignature, $"signature check failed: {check}");
            }

            if (recovered != tx.Signer)
            {
                return Transition.Rejected(hash, RejectionCode.SignerMismatch, $"signed by {recovered}, not by the claimed signer {tx.Signer}");
            }
        }

        var member = state.Read(StateKeys.Member(tx.Signer), MemberState.Read);
        if (member is null)
        {
            return Transition.Rejected(hash, RejectionCode.NotAMember, $"{tx.Signer} is not a member");
        }

        var expected = state.Read(StateKeys.Nonce(tx.Signer), CounterState.Read)?.Value ?? 0;
        if (tx.Nonce != expected)
        {
            return Transition.Rejected(hash, tx.Nonce < expected ? RejectionCode.NonceReused : RejectionCode.NonceGap, $"nonce {tx.Nonce}, expected {expected}");
        }

        var required = TransactionRules.RequiredRole(tx.Kind);
        if (!member.Roles.HasFlag(required))
        {
            return Transition.Rejected(hash, RejectionCode.MissingRole, $"{tx.Kind} needs the role {required}; the signer has {member.Roles}");
        }

        // A transaction writes a handful of keys (a record, its version, the subject index, the nonce).
        var overlay = new StateOverlay(state, 8);
        var context = new RuleContext(overlay, tx.Signer, member, LedgerTime.ToUnixSeconds(blockTime), this);
        var verdict = TransactionRules.Apply(context, tx.Body);
        if (!verdict.IsOk)
        {
            return Transition.Rejected(hash, verdict.Code, verdict.Reason);
        }

        IndexForScoring(overlay, tx.Body);
        Put(overlay, StateKeys.Nonce(tx.Signer), new CounterState(expected + 1));
        return Transition.Accepted(hash, overlay.Writes);
    }

    /// <summary>The role each kind needs (from <see cref="TransactionRules"/>); None: every member, or the owner alone.</summary>
    public static MemberRole RequiredRole(TransactionKind kind) => TransactionRules.RequiredRole(kind);

    /// <summary>Every kind's rules: the catalogue <see cref="TransactionRules"/> is built from these declarations.</summary>
    internal static IEnumerable<IKindRules> Catalogue() => [.. RecordRules(), .. LicenceRules(), .. IncentiveRules(), .. GovernanceRules()];

    internal static void Put(StateOverlay state, StateKey key, IStateValue value) => state.Set(state.KeyHash(key), StateValue.Encode(value), value);

    /// <summary>Text of 1 to 512 characters, counted as Unicode scalar values, in well-formed Unicode.</summary>
    internal static Verdict Text(string value, string field)
    {
        var characters = 0;
        for (var i = 0; i < value.Length; characters++)
        {
            if (Rune.DecodeFromUtf16(value.AsSpan(i), out _, out var used) != OperationStatus.Done)
            {
                return Verdict.Reject(RejectionCode.InvalidField, $"{field} is not well-formed Unicode (a lone surrogate at {i})");
            }

            i += used;
        }

        return characters is 0 or > TransactionRules.MaxTextLength
            ? Verdict.Reject(RejectionCode.InvalidField, $"{field} must be 1 to {TransactionRules.MaxTextLength} characters, not {characters}")
            : Verdict.Ok;
    }

    internal static Verdict SubjectField(string text)
    {
        var parsed = Subject.Parse(text);
        return parsed.IsValid ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidSubject, $"{parsed.Error}: {parsed.Detail}");
    }

    internal static Verdict First(params ReadOnlySpan<Verdict> verdicts)
    {
        foreach (var verdict in verdicts)
        {
            if (!verdict.IsOk)
            {
                return verdict;
            }
        }

        return Verdict.Ok;
    }
}
