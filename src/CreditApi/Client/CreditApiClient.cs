using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using SmartCity.Contracts.Audit.V1;
using SmartCity.Contracts.Credit.V1;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Client;

/// <summary>
/// The credit API from C#: one channel, every call signed by the member's key (<see cref="SigningInterceptor"/>), the
/// four generated clients. Dispose it to close a channel it opened (the signer stays the caller's).
/// </summary>
public sealed class CreditApiClient : IDisposable
{
    private readonly GrpcChannel? _ownedChannel;
    private readonly SigningInterceptor _signer;

    /// <summary>A client for the chain whose crypto suite is <paramref name="suite"/> (genesis <c>"crypto"</c>; eth when null): requests are hashed and signed in it.</summary>
    public CreditApiClient(Uri address, ISigner signer, ulong chainId, string purpose, TimeProvider? time = null, CryptoSuite? suite = null)
        : this(GrpcChannel.ForAddress(address), signer, chainId, purpose, time, suite, owned: true)
    {
    }

    /// <summary>A client for the chain whose crypto suite is <paramref name="suite"/> (genesis <c>"crypto"</c>; eth when null): requests are hashed and signed in it.</summary>
    public CreditApiClient(ChannelBase channel, ISigner signer, ulong chainId, string purpose, TimeProvider? time = null, CryptoSuite? suite = null)
        : this(channel, signer, chainId, purpose, time, suite, owned: false)
    {
    }

    private CreditApiClient(ChannelBase channel, ISigner signer, ulong chainId, string purpose, TimeProvider? time, CryptoSuite? suite, bool owned)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _ownedChannel = owned ? (GrpcChannel)channel : null;
        _signer = new SigningInterceptor(signer, chainId, purpose, time, suite);
        var invoker = channel.Intercept(_signer);
        Credit = new CreditService.CreditServiceClient(invoker);
        Attestation = new AttestationService.AttestationServiceClient(invoker);
        Incentive = new IncentiveService.IncentiveServiceClient(invoker);
        Audit = new AuditService.AuditServiceClient(invoker);
    }

    public Address Member => _signer.Member;

    public CreditService.CreditServiceClient Credit { get; }

    public AttestationService.AttestationServiceClient Attestation { get; }

    public IncentiveService.IncentiveServiceClient Incentive { get; }

    public AuditService.AuditServiceClient Audit { get; }

    public void Dispose() => _ownedChannel?.Dispose();
}
