using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Client;
using SmartCity.CreditApi.Node;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// A real node host (Kestrel on port 0, HTTP/2) over a single-validator Tianjin ledger, with the sample genesis'
/// members and fresh keys, and signed credit-API clients for each of them. Data is written through NodeService by
/// the Tianjin market regulator (a licence issuer and credit designator).
/// </summary>
public sealed class ApiNode : IAsyncLifetime
{
    /// <summary>Members of the setup's genesis (<c>smartcity init</c>) by index: their roles decide what the API lets them do.</summary>
    public const int TianjinRegulator = 1; // CreditDesignator, LicenceIssuer, ListInitiator, MeasureImplementer (TJ)
    public const int CreditOffice = 4;     // MemorandumPublisher
    public const int Bureau = 5;           // CreditBureau
    public const int Bank = 6;             // Bank
    public const int Regulator = 7;        // Regulator

    public const string Holder = "uscc:91350100M000100Y43";

    private readonly InProcessNode _node;
    private readonly Dictionary<int, ulong> _nonces = [];
    private readonly List<CreditApiClient> _clients = [];
    private Eip712Domain _domain = null!;

    /// <param name="httpListener">Also open the HTTP/1.1 listener of the JSON gateway (NodeSettings.HttpListen, port 0).</param>
    /// <param name="suite">The chain's crypto suite (<c>init --crypto</c>): eth by default, or gm (SM2 member keys, SM3).</param>
    public ApiNode(bool httpListener = false, CryptoSuiteId suite = CryptoSuiteId.Eth) => _node = httpListener ? new WithHttpListener(suite) : new InProcessNode(suite);

    public GenesisDocument Genesis { get; private set; } = null!;

    /// <summary>The chain's crypto suite, from its genesis: requests are hashed and signed in it.</summary>
    public CryptoSuite Suite { get; private set; } = null!;

    /// <summary>The EIP-712(-shaped) domain of the chain's transactions, in its suite.</summary>
    public Eip712Domain Domain => _domain;

    /// <summary>The HTTP/1.1 listener's address (only with <c>httpListener</c>): the second address Kestrel bound.</summary>
    public Uri HttpAddress => new(_node.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.Skip(1).First());

    public InProcessNode Host => _node;

    public string Target => _node.Target;

    public LedgerRuntime Ledger => _node.Services.GetRequiredService<LedgerRuntime>();

    public string GenesisPath => _node.Ledger.Result.GenesisPath;

    public async Task InitializeAsync()
    {
        await _node.InitializeAsync();
        Genesis = (await _node.Ledger.StartupAsync()).Genesis;
        Suite = Genesis.Crypto.CreateSuite();
        _domain = Genesis.Domain(Suite);
        var roles = new[] { TianjinRegulator, CreditOffice, Bureau, Bank, Regulator }.Select(i => Genesis.Members[i].Roles).ToArray();
        var expected = new[] { MemberRole.CreditDesignator | MemberRole.LicenceIssuer | MemberRole.ListInitiator | MemberRole.MeasureImplementer, MemberRole.MemorandumPublisher, MemberRole.CreditBureau, MemberRole.Bank, MemberRole.Regulator };
        if (!roles.SequenceEqual(expected))
        {
            throw new InvalidOperationException($"the setup's members changed order: roles {string.Join("; ", roles)}");
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _node.DisposeAsync();
    }

    /// <summary>Member <paramref name="member"/>'s key, opened from its keystore (the setup's development password).</summary>
    public ISigner Key(int member) => _node.Ledger.MemberKey(member);

    public Address AddressOf(int member) => Key(member).Address;

    /// <summary>The keystore file of member <paramref name="member"/> and the file holding its password.</summary>
    public (string Keystore, string PasswordFile) KeystoreOf(int member) => (_node.Ledger.Result.Members[member].KeyPath, _node.Ledger.Result.PasswordFile);

    /// <summary>A client signing every call with member <paramref name="member"/>'s key.</summary>
    public CreditApiClient Client(int member, string purpose = "CREDIT_CHECK", TimeProvider? time = null)
        => Client(Key(member), purpose, time);

    public CreditApiClient Client(ISigner key, string purpose = "CREDIT_CHECK", TimeProvider? time = null)
    {
        var client = new CreditApiClient(_node.Channel, key, Genesis.ChainId, purpose, time, Suite);
        _clients.Add(client);
        return client;
    }

    /// <summary>The channel without any signing: raw generated clients for unauthenticated and forged calls.</summary>
    public CallInvoker Unsigned => _node.Channel.CreateCallInvoker();

    public SignedTransaction Sign(ITransactionBody body, int member = TianjinRegulator)
    {
        var nonce = _nonces.GetValueOrDefault(member);
        _nonces[member] = nonce + 1;
        return SignedTransaction.Sign(Key(member), _domain, Genesis.ChainId, nonce, body);
    }

    /// <summary>Submits through NodeService and waits for the commit.</summary>
    public async Task<SubmitTransactionResponse> CommitAsync(ITransactionBody body, int member = TianjinRegulator)
    {
        var response = await _node.Client.SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(TransactionCodec.Encode(Sign(body, member))), WaitForCommit = true });
        Assert.Equal(Contracts.Node.V1.TransactionStatus.Committed, response.Status);
        return response;
    }

    public string LicenceId(string number, int version = 1) => LicenceIdentifier.Compose("11100000000013338W032", Genesis.Members[TianjinRegulator].Uscc.Value, number, version);

    /// <summary>Issues a Tianjin business licence valid from yesterday for five years, and returns its identifier.</summary>
    public async Task<string> IssueLicenceAsync(string number, string holder = Holder)
    {
        var identifier = LicenceId(number);
        await CommitAsync(new LicenceIssue(identifier, holder, "Business licence", "120101", LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1)), LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddYears(5)), Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(number))));
        return identifier;
    }

    /// <summary>A moderate administrative penalty on <paramref name="subject"/> decided yesterday in Tianjin.</summary>
    public Task<SubmitTransactionResponse> PenaliseAsync(string name, string subject = Holder)
        => CommitAsync(PenaltyBody(name, subject));

    public static ITransactionBody PenaltyBody(string name, string subject = Holder)
        => new CreditRecordSubmit(Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(name)), subject, RecordCategory.AdministrativePenalty, Severity.Moderate, "120101", LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1)), 6, "Administrative Penalty Law, art. 28", "", Keccak256.Hash("payload"u8));

    /// <summary>Every entry of the node's access log, in order.</summary>
    public async Task<IReadOnlyList<AccessLogEntry>> AccessLogAsync()
        => await Ledger.Node.AccessLog.ReadAccessLogAsync(0, int.MaxValue, CancellationToken.None);

    private sealed class WithHttpListener(CryptoSuiteId suite) : InProcessNode(suite)
    {
        protected override NodeSettings Configure(NodeSettings settings) => new(settings.Region, settings.NodeId, settings.Listen)
        {
            MaxReceiveMessageSize = settings.MaxReceiveMessageSize,
            HttpListen = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
        };
    }

    /// <summary>The ErrorInfo reason of a refusal (e.g. <c>MISSING_ROLE</c>).</summary>
    public static string Reason(RpcException error)
        => error.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason ?? throw new InvalidOperationException($"no ErrorInfo in {error.Status}");
}
