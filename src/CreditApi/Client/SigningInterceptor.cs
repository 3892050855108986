using System.Security.Cryptography;
using Grpc.Core;
using Grpc.Core.Interceptors;
using SmartCity.CreditApi.Auth;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Client;

/// <summary>
/// The C# client's side of request authentication: signs every outgoing unary and server-streaming call with the
/// member's key (<see cref="ApiRequestSigning"/>), a fresh 16-byte nonce and the time of the injected clock.
/// Use: <c>new CreditService.CreditServiceClient(channel.Intercept(new SigningInterceptor(...)))</c>, or
/// <see cref="CreditApiClient"/>.
/// </summary>
public sealed class SigningInterceptor : Interceptor
{
    private readonly ISigner _signer;
    private readonly ulong _chainId;
    private readonly TimeProvider _time;
    private readonly CryptoSuite _suite;

    /// <param name="signer">The member key (keystore, PKCS#11 or in memory); not disposed here.</param>
    /// <param name="chainId">The chain the requests are for (part of the signed digest).</param>
    /// <param name="purpose">The purpose code sent with every request (<c>x-sc-purpose</c>), e.g. <c>CREDIT_CHECK</c>.</param>
    /// <param name="time">The clock of the request timestamps; the system clock when null.</param>
    /// <param name="suite">The chain's crypto suite, whose hash makes the signed digest (Keccak-256 for eth, SM3 for gm) and whose key <paramref name="signer"/> must hold; eth when null.</param>
    public SigningInterceptor(ISigner signer, ulong chainId, string purpose, TimeProvider? time = null, CryptoSuite? suite = null)
    {
        ArgumentNullException.ThrowIfNull(signer);
        if (!ApiRequestSigning.IsPurposeCode(purpose))
        {
            throw new ArgumentException($"a purpose code is 1-{ApiRequestSigning.MaxPurposeLength} of A-Z, 0-9 and _, got '{purpose}'", nameof(purpose));
        }

        _signer = signer;
        _chainId = chainId;
        Purpose = purpose;
        _time = time ?? TimeProvider.System;
        _suite = suite ?? CryptoSuite.Eth;
    }

    public Address Member => _signer.Address;

    public string Purpose { get; }

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return continuation(request, Signed(request, context));
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return continuation(request, Signed(request, context));
    }

    private ClientInterceptorContext<TRequest, TResponse> Signed<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context)
        where TRequest : class
        where TResponse : class
    {
        if (request is not Google.Protobuf.IMessage message)
        {
            return context;
        }

        Span<byte> nonce = stackalloc byte[ApiRequestSigning.NonceSize];
        RandomNumberGenerator.Fill(nonce);
        var headers = context.Options.Headers ?? [];
        foreach (var (key, value) in ApiRequestSigning.Sign(_suite, _signer, _chainId, context.Method.FullName, message, _time.GetUtcNow().ToUnixTimeMilliseconds(), nonce, Purpose))
        {
            headers.Add(key, value);
        }

        return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers));
    }
}
