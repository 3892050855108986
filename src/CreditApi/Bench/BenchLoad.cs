using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json.Nodes;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.State;

namespace SmartCity.CreditApi.Bench;

/// <summary>
/// The load a cluster benchmark sends: one credit designator per client (Beijing members added to the genesis, keys
/// derived from the client's index, so a later run can sign for the same members), each submitting credit records
/// in nonce order about enterprises spread over <see cref="SubjectCount"/> subjects. The keys are public knowledge
/// (derived from small numbers): a benchmark's consortium only.
/// </summary>
internal sealed class BenchLoad : IDisposable
{
    /// <summary>Distinct enterprises the records are about (a subject's index is rewritten with each of its records).</summary>
    public const int SubjectCount = 100_000;

    private const int KeySeedBase = 0x5C_0000;
    private const int UsccSequenceBase = 500_000;

    private readonly InMemorySigner[] _keys;
    private readonly string[] _subjects;
    private readonly Eip712Domain _domain;
    private readonly ulong _chainId;
    private readonly ulong _decidedAt;

    public BenchLoad(GenesisDocument genesis, int clients)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        _keys = Keys(clients);
        _domain = genesis.Eip712Domain.ToDomain();
        _chainId = genesis.ChainId;
        _decidedAt = LedgerTime.ToUnixSeconds(genesis.GenesisTime);
        _subjects = new string[SubjectCount];
        for (var s = 0; s < _subjects.Length; s++)
        {
            var first17 = string.Create(CultureInfo.InvariantCulture, $"91350100M{s:D8}");
            _subjects[s] = "uscc:" + first17 + UnifiedSocialCreditCode.CheckCharacter(first17);
        }

        var members = genesis.Members.Select(m => m.Address).ToHashSet();
        if (_keys.FirstOrDefault(k => !members.Contains(k.Address)) is { } missing)
        {
            throw new BenchSetupException($"the genesis has no benchmark member {missing.Address} (client {Array.IndexOf(_keys, missing)}): point --dir at a setup an earlier 'bench cluster --keep' wrote with at least as many --clients");
        }
    }

    public int Clients => _keys.Length;

    public Address Signer(int client) => _keys[client].Address;

    /// <summary>Client <paramref name="client"/>'s transaction with <paramref name="nonce"/>: its id and canonical bytes.</summary>
    public (Hash256 Id, byte[] Bytes) Transaction(int client, ulong nonce)
    {
        Span<byte> idBytes = stackalloc byte[32];
        idBytes.Clear();
        "bench"u8.CopyTo(idBytes);
        BinaryPrimitives.WriteInt32BigEndian(idBytes[16..], client);
        BinaryPrimitives.WriteUInt64BigEndian(idBytes[24..], nonce);
        var recordId = new Hash256(idBytes);
        var subject = _subjects[(int)((((ulong)client * 7919UL) + (nonce * (ulong)Clients)) % (ulong)_subjects.Length)];
        var body = new CreditRecordSubmit(recordId, subject, RecordCategory.AdministrativePenalty, Severity.Moderate, "110105", _decidedAt, 6, "Administrative Penalty Law, art. 28", "", recordId);
        var signed = SignedTransaction.Sign(_keys[client], _domain, _chainId, nonce, body);
        return (signed.Hash(_domain), TransactionCodec.Encode(signed));
    }

    /// <summary>Adds <paramref name="clients"/> benchmark members (Beijing credit designators) to a genesis document's JSON.</summary>
    public static string WithMembers(string genesisJson, int clients)
    {
        var genesis = JsonNode.Parse(genesisJson)!.AsObject();
        var members = genesis["members"]!.AsArray();
        var keys = Keys(clients);
        try
        {
            for (var i = 0; i < keys.Length; i++)
            {
                var first17 = string.Create(CultureInfo.InvariantCulture, $"11110000MB{UsccSequenceBase + i:D7}");
                members.Add(new JsonObject
                {
                    ["address"] = keys[i].Address.ToString(),
                    ["uscc"] = first17 + UnifiedSocialCreditCode.CheckCharacter(first17),
                    ["name"] = string.Create(CultureInfo.InvariantCulture, $"benchmark designator {i}"),
                    ["region"] = "BJ",
                    ["roles"] = new JsonArray("CreditDesignator"),
                });
            }
        }
        finally
        {
            foreach (var key in keys)
            {
                key.Dispose();
            }
        }

        return genesis.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private static InMemorySigner[] Keys(int count)
    {
        var keys = new InMemorySigner[count];
        Span<byte> secret = stackalloc byte[32];
        for (var i = 0; i < count; i++)
        {
            secret.Clear();
            BinaryPrimitives.WriteInt32BigEndian(secret[28..], KeySeedBase + i);
            keys[i] = new InMemorySigner(secret);
        }

        secret.Clear();
        return keys;
    }

    public void Dispose()
    {
        foreach (var key in _keys)
        {
            key.Dispose();
        }
    }
}

/// <summary>The benchmark cannot run as asked (bad setup, a node that does not start); the CLI prints the message.</summary>
internal sealed class BenchSetupException(string message) : Exception(message);
