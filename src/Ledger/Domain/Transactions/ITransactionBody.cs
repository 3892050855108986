using SmartCity.Ledger.Codec;

namespace SmartCity.Ledger.Domain.Transactions;

/// <summary>The kind-specific fields of a transaction, written in their one canonical order.</summary>
public interface ITransactionBody
{
    TransactionKind Kind { get; }

    void WriteFields(IFieldWriter writer);
}

/// <summary>Every transaction kind with its EIP-712 primary type name and its field reader.</summary>
public static class TransactionCatalogue
{
    private static readonly Dictionary<TransactionKind, Func<IFieldReader, ITransactionBody>> Readers = new()
    {
        [TransactionKind.CreditRecordSubmit] = CreditRecordSubmit.Read,
        [TransactionKind.CreditRecordAmend] = CreditRecordAmend.Read,
        [TransactionKind.CreditRecordRepair] = CreditRecordRepair.Read,
        [TransactionKind.CreditRecordAnnul] = CreditRecordAnnul.Read,
        [TransactionKind.ObjectionFile] = ObjectionFile.Read,
        [TransactionKind.ObjectionResolve] = ObjectionResolve.Read,
        [TransactionKind.LicenceIssue] = LicenceIssue.Read,
        [TransactionKind.LicenceSuspend] = LicenceSuspend.Read,
        [TransactionKind.LicenceResume] = LicenceResume.Read,
        [TransactionKind.LicenceChange] = LicenceChange.Read,
        [TransactionKind.LicenceRevoke] = LicenceRevoke.Read,
        [TransactionKind.LicenceCancel] = LicenceCancel.Read,
        [TransactionKind.ListEntryAdd] = ListEntryAdd.Read,
        [TransactionKind.ListEntryRemove] = ListEntryRemove.Read,
        [TransactionKind.MemorandumPublish] = MemorandumPublish.Read,
        [TransactionKind.MeasureFeedback] = MeasureFeedback.Read,
        [TransactionKind.GovernancePropose] = GovernancePropose.Read,
        [TransactionKind.GovernanceVote] = GovernanceVote.Read,
    };

    public static IReadOnlyCollection<TransactionKind> Kinds => Readers.Keys;

    public static bool IsKnown(TransactionKind kind) => Readers.ContainsKey(kind);

    /// <summary>The EIP-712 primary type: the kind's name, e.g. <c>CreditRecordSubmit</c>.</summary>
    public static string PrimaryType(TransactionKind kind) => kind.ToString();

    public static ITransactionBody Read(TransactionKind kind, IFieldReader reader) => Readers[kind](reader);

    /// <summary>The EIP-712 members of a kind, nonce first, as published in contracts/eip712.</summary>
    public static IReadOnlyList<(string Name, string Type)> Members(TransactionKind kind)
    {
        var recorder = new Eip712SchemaRecorder();
        ((IFieldWriter)recorder).UInt64(SignedTransaction.NonceField, 0);
        Read(kind, new DefaultFieldReader()).WriteFields(recorder);
        return recorder.Members;
    }

    private sealed class DefaultFieldReader : IFieldReader
    {
        public byte UInt8(string name) => 0;

        public uint UInt32(string name) => 0;

        public ulong UInt64(string name) => 0;

        public bool Bool(string name) => false;

        public Crypto.Address Address(string name) => default;

        public Crypto.Hash256 Bytes32(string name) => default;

        public string String(string name) => string.Empty;

        public IReadOnlyList<string> StringArray(string name) => [];
    }
}
