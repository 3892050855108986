using System.Security.Cryptography;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using SmartCity.Contracts.Audit.V1;
using SmartCity.Contracts.Credit.V1;
using SmartCity.CreditApi.Auth;
using SmartCity.CreditApi.Services.Api;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// Authentication and authorisation of the credit API over real HTTP/2: every call of the four services carries a
/// signed request; anything not signed by a current member, stale or replayed is UNAUTHENTICATED, a member without
/// the method's role PERMISSION_DENIED, and none of these writes an access-log entry.
/// </summary>
public sealed class AuthenticationTests : IAsyncLifetime
{
    private readonly ApiNode _api = new();

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    private const string VerifyLicenceMethod = "/smartcity.credit.v1.AttestationService/VerifyLicence";

    /// <summary>The roles matrix as the README states it: for each method, the roles any one of which may call it.</summary>
    public static readonly IReadOnlyDictionary<string, MemberRole> ReadmeMatrix = new Dictionary<string, MemberRole>
    {
        ["/smartcity.credit.v1.CreditService/GetTrustScore"] = MemberRole.CreditBureau | MemberRole.Bank | MemberRole.Regulator,
        ["/smartcity.credit.v1.CreditService/ListCreditRecords"] = MemberRole.CreditBureau | MemberRole.Regulator | MemberRole.CreditDesignator,
        ["/smartcity.credit.v1.CreditService/SubmitTransaction"] = MemberRoles.All,
        ["/smartcity.credit.v1.AttestationService/GetLicence"] = MemberRole.Bank | MemberRole.CreditBureau | MemberRole.Regulator | MemberRole.LicenceIssuer,
        ["/smartcity.credit.v1.AttestationService/VerifyLicence"] = MemberRole.Bank | MemberRole.CreditBureau | MemberRole.Regulator | MemberRole.LicenceIssuer,
        ["/smartcity.credit.v1.AttestationService/ListLicencesByHolder"] = MemberRole.Bank | MemberRole.Regulator | MemberRole.LicenceIssuer,
        ["/smartcity.credit.v1.IncentiveService/ListEntries"] = MemberRole.CreditBureau | MemberRole.Bank | MemberRole.Regulator | MemberRole.ListInitiator | MemberRole.MeasureImplementer,
        ["/smartcity.credit.v1.IncentiveService/GetApplicableMeasures"] = MemberRole.MeasureImplementer | MemberRole.Regulator,
        ["/smartcity.audit.v1.AuditService/GetCertifiedHeader"] = MemberRoles.All,
        ["/smartcity.audit.v1.AuditService/StreamBlocks"] = MemberRole.Regulator,
        ["/smartcity.audit.v1.AuditService/GetTransaction"] = MemberRole.Regulator,
        ["/smartcity.audit.v1.AuditService/GetConsistencyProof"] = MemberRole.Regulator | MemberRole.Bank,
        ["/smartcity.audit.v1.AuditService/VerifyChain"] = MemberRole.Regulator,
        ["/smartcity.audit.v1.AuditService/GetAccessLog"] = MemberRole.Regulator,
        ["/smartcity.audit.v1.AuditService/ListReconciliationReports"] = MemberRole.Regulator,
        ["/smartcity.audit.v1.AuditService/ListLifecycleNotifications"] = MemberRole.Regulator | MemberRole.CreditDesignator,
    };

    private static IEnumerable<MethodDescriptor> AllMethods =>
        new[] { CreditService.Descriptor, AttestationService.Descriptor, IncentiveService.Descriptor, AuditService.Descriptor }.SelectMany(s => s.Methods);

    private static string PathOf(MethodDescriptor method) => $"/{method.Service.FullName}/{method.Name}";

    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);

    /// <summary>The five metadata entries of <paramref name="request"/> signed by <paramref name="key"/> for <paramref name="method"/>.</summary>
    private Metadata Signed(ISigner key, string method, IMessage request, long? timestampMs = null, byte[]? nonce = null)
    {
        nonce ??= RandomNumberGenerator.GetBytes(ApiRequestSigning.NonceSize);
        var headers = new Metadata();
        foreach (var (name, value) in ApiRequestSigning.Sign(key, _api.Genesis.ChainId, method, request, timestampMs ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), nonce, "CREDIT_CHECK"))
        {
            headers.Add(name, value);
        }

        return headers;
    }

    private static Metadata With(Metadata headers, string name, string value)
    {
        var copy = new Metadata();
        foreach (var entry in headers.Where(e => e.Key != name))
        {
            copy.Add(entry.Key, entry.Value);
        }

        copy.Add(name, value);
        return copy;
    }

    private AttestationService.AttestationServiceClient RawClient => new(_api.Unsigned);

    private async Task<RpcException> RefusedVerify(VerifyLicenceRequest request, Metadata? headers)
    {
        var client = RawClient;
        return await Assert.ThrowsAsync<RpcException>(() => client.VerifyLicenceAsync(request, headers).ResponseAsync);
    }

    [Fact]
    public async Task Roles_matrix_in_the_readme_is_the_one_enforced_and_covers_every_method()
    {
        var paths = AllMethods.Select(PathOf).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(paths, ReadmeMatrix.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(ReadmeMatrix.OrderBy(e => e.Key, StringComparer.Ordinal), ApiRoles.Matrix.OrderBy(e => e.Key, StringComparer.Ordinal));
        Assert.All(paths, path => Assert.True(ApiRoles.IsProtected(path), path));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Every_method_called_by_every_role_is_refused_permission_exactly_when_the_matrix_says_so()
    {
        var members = new[] { ApiNode.TianjinRegulator, ApiNode.CreditOffice, ApiNode.Bureau, ApiNode.Bank, ApiNode.Regulator };
        var invoker = _api.Unsigned;
        var mismatches = new List<string>();
        foreach (var method in AllMethods)
        {
            var path = PathOf(method);
            var empty = method.InputType.Parser.ParseFrom(ByteString.Empty);
            foreach (var member in members)
            {
                var roles = _api.Genesis.Members[member].Roles;
                var allowed = (roles & ReadmeMatrix[path]) != MemberRole.None;
                var code = await CallAsync(invoker, method, path, Signed(_api.Key(member), path, empty));
                var denied = code == StatusCode.PermissionDenied;
                if (denied == allowed || code == StatusCode.Unauthenticated)
                {
                    mismatches.Add($"{path} by {roles}: {code}");
                }
            }
        }

        Assert.Empty(mismatches);
    }

    /// <summary>Calls with an empty request; the status it ends with (OK when a first answer arrives).</summary>
    private static async Task<StatusCode> CallAsync(CallInvoker invoker, MethodDescriptor method, string path, Metadata headers)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var options = new CallOptions(headers, cancellationToken: cancel.Token);
        try
        {
            if (method.IsServerStreaming)
            {
                using var call = invoker.AsyncServerStreamingCall(new Method<byte[], byte[]>(MethodType.ServerStreaming, method.Service.FullName, method.Name, Raw, Raw), null, options, []);
                _ = await call.ResponseStream.MoveNext(cancel.Token);
                return StatusCode.OK;
            }

            using var unary = invoker.AsyncUnaryCall(new Method<byte[], byte[]>(MethodType.Unary, method.Service.FullName, method.Name, Raw, Raw), null, options, []);
            _ = await unary.ResponseAsync;
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    [Fact]
    public async Task A_call_without_signed_metadata_is_unauthenticated_and_logs_nothing()
    {
        var error = await RefusedVerify(new VerifyLicenceRequest { Identifier = _api.LicenceId("1") }, null);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal("MISSING_CREDENTIALS", ApiNode.Reason(error));
        Assert.Empty(await _api.AccessLogAsync());
    }

    [Fact]
    public async Task A_request_signed_by_a_key_that_is_no_member_is_unauthenticated()
    {
        var request = new VerifyLicenceRequest { Identifier = _api.LicenceId("1") };
        using var outsider = new InMemorySigner(Keccak256.Hash("outsider"u8).Bytes);
        var error = await RefusedVerify(request, Signed(outsider, VerifyLicenceMethod, request));

        Assert.Equal((StatusCode.Unauthenticated, "UNKNOWN_MEMBER"), (error.StatusCode, ApiNode.Reason(error)));
    }

    [Fact]
    public async Task A_request_claiming_the_bank_but_signed_by_the_bureau_is_unauthenticated()
    {
        var request = new VerifyLicenceRequest { Identifier = _api.LicenceId("1") };
        var forged = With(Signed(_api.Key(ApiNode.Bureau), VerifyLicenceMethod, request), ApiRequestSigning.MemberHeader, _api.AddressOf(ApiNode.Bank).ToString());

        var error = await RefusedVerify(request, forged);

        Assert.Equal((StatusCode.Unauthenticated, "BAD_SIGNATURE"), (error.StatusCode, ApiNode.Reason(error)));
    }

    [Fact]
    public async Task A_request_changed_after_signing_is_unauthenticated()
    {
        var signedFor = new VerifyLicenceRequest { Identifier = _api.LicenceId("1") };
        var sent = new VerifyLicenceRequest { Identifier = _api.LicenceId("2") };

        var error = await RefusedVerify(sent, Signed(_api.Key(ApiNode.Bank), VerifyLicenceMethod, signedFor));

        Assert.Equal((StatusCode.Unauthenticated, "BAD_SIGNATURE"), (error.StatusCode, ApiNode.Reason(error)));
    }

    [Fact]
    public async Task A_request_signed_for_another_method_is_unauthenticated()
    {
        var request = new VerifyLicenceRequest { Identifier = _api.LicenceId("1") };

        var error = await RefusedVerify(request, Signed(_api.Key(ApiNode.Bank), "/smartcity.credit.v1.AttestationService/GetLicence", request));

        Assert.Equal((StatusCode.Unauthenticated, "BAD_SIGNATURE"), (error.StatusCode, ApiNode.Reason(error)));
    }

    [Theory]
    [InlineData(-10)]
    [InlineData(+10)]
    public async Task A_request_signed_minutes_away_from_the_node_clock_is_stale(int minutes)
    {
        var request = new VerifyLicenceRequest { Identifier = _api.LicenceId("1") };
        var at = DateTimeOffset.UtcNow.AddMinutes(minutes).ToUnixTimeMilliseconds();

        var error = await RefusedVerify(request, Signed(_api.Key(ApiNode.Bank), VerifyLicenceMethod, request, at));

        Assert.Equal((StatusCode.Unauthenticated, "STALE_REQUEST"), (error.StatusCode, ApiNode.Reason(error)));
    }

    [Fact]
    public async Task A_replayed_request_is_unauthenticated_the_second_time()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        var request = new VerifyLicenceRequest { Identifier = identifier };
        var headers = Signed(_api.Key(ApiNode.Bank), VerifyLicenceMethod, request);
        var client = RawClient;

        var first = await client.VerifyLicenceAsync(request, headers);
        var error = await Assert.ThrowsAsync<RpcException>(() => client.VerifyLicenceAsync(request, headers).ResponseAsync);

        Assert.Equal(identifier, first.Licence.Identifier);
        Assert.Equal((StatusCode.Unauthenticated, "REPLAYED_REQUEST"), (error.StatusCode, ApiNode.Reason(error)));
        Assert.Single(await _api.AccessLogAsync());
    }

    [Theory]
    [InlineData(ApiRequestSigning.MemberHeader, "0x1234")]
    [InlineData(ApiRequestSigning.TimestampHeader, "yesterday")]
    [InlineData(ApiRequestSigning.NonceHeader, "0x00")]
    [InlineData(ApiRequestSigning.SignatureHeader, "0xzz")]
    [InlineData(ApiRequestSigning.PurposeHeader, "credit check")]
    public async Task Malformed_credentials_are_unauthenticated_with_the_header_named(string header, string value)
    {
        var request = new VerifyLicenceRequest { Identifier = _api.LicenceId("1") };

        var error = await RefusedVerify(request, With(Signed(_api.Key(ApiNode.Bank), VerifyLicenceMethod, request), header, value));

        Assert.Equal((StatusCode.Unauthenticated, "MALFORMED_CREDENTIALS"), (error.StatusCode, ApiNode.Reason(error)));
        Assert.Contains(header, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_without_the_role_is_denied_and_nothing_is_logged()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        var publisher = _api.Client(ApiNode.CreditOffice);

        var error = await Assert.ThrowsAsync<RpcException>(() => publisher.Attestation.VerifyLicenceAsync(new VerifyLicenceRequest { Identifier = identifier }).ResponseAsync);

        Assert.Equal((StatusCode.PermissionDenied, "MISSING_ROLE"), (error.StatusCode, ApiNode.Reason(error)));
        Assert.Empty(await _api.AccessLogAsync());
    }
}
