using Google.Protobuf;
using SmartCity.Contracts.Node.V1;
using SmartCity.Grpc.Tests.Infrastructure;
using Ending = SmartCity.Contracts.Node.V1.WatchOutcome.Types.Ending;

namespace SmartCity.Grpc.Tests;

/// <summary>The server seen through raw HTTP/2: framing errors, trailers-only answers, headers and timeouts on the wire.</summary>
public sealed class WireProtocolTests(InProcessNode node) : IClassFixture<InProcessNode>, IDisposable
{
    private const string Health = "/smartcity.node.v1.NodeService/Health";
    private const string Status = "/smartcity.node.v1.NodeService/Status";
    private const string Watch = "/smartcity.node.v1.NodeService/Watch";

    private readonly RawGrpcClient _raw = new(node.Address);

    public void Dispose() => _raw.Dispose();

    [Fact]
    public async Task Successful_unary_call_sends_headers_then_one_message_then_status_trailers()
    {
        var response = await _raw.PostAsync(Health, RawGrpcClient.Frame(new HealthRequest().ToByteArray()));

        Assert.Equal(System.Net.HttpStatusCode.OK, response.HttpStatus);
        Assert.Equal("application/grpc", response.ContentType);
        Assert.False(response.Headers.Contains("grpc-status"));
        Assert.Equal(RawGrpcClient.Frame(new HealthResponse { Status = HealthResponse.Types.ServingStatus.Serving }.ToByteArray()), response.Body);
        Assert.Equal("0", RawGrpcClient.Response.Value(response.Trailers, "grpc-status"));
    }

    [Fact]
    public async Task Grpc_proto_content_type_is_accepted()
    {
        var response = await _raw.PostAsync(Health, RawGrpcClient.Frame([]), "application/grpc+proto");

        Assert.Equal(("0", null), response.GrpcStatus);
    }

    [Fact]
    public async Task Truncated_prefix_answers_internal()
    {
        var response = await _raw.PostAsync(Status, [0, 0, 0]);

        Assert.True(response.IsTrailersOnly);
        Assert.Equal(("13", "Incomplete message: the stream ended after 3 of the 5 prefix bytes."), response.GrpcStatus);
    }

    [Fact]
    public async Task Length_larger_than_the_body_answers_internal()
    {
        var response = await _raw.PostAsync(Status, [0, 0, 0, 0, 10, 0x2A, 0x00]);

        Assert.True(response.IsTrailersOnly);
        Assert.Equal(("13", "Incomplete message: the prefix announces 10 bytes but the stream ended after 2."), response.GrpcStatus);
    }

    [Fact]
    public async Task Compressed_flag_without_grpc_encoding_answers_internal()
    {
        var response = await _raw.PostAsync(Status, RawGrpcClient.Frame([], compressedFlag: 1));

        Assert.Equal(("13", "Received a message with the compressed flag set, but no grpc-encoding was negotiated."), response.GrpcStatus);
    }

    [Fact]
    public async Task Garbage_protobuf_answers_internal()
    {
        var response = await _raw.PostAsync(Status, RawGrpcClient.Frame([0xFF, 0xFF, 0xFF]));

        var (status, message) = response.GrpcStatus;
        Assert.Equal("13", status);
        Assert.StartsWith("Failed to deserialize StatusRequest:", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Empty_body_answers_internal()
    {
        var response = await _raw.PostAsync(Status, []);

        Assert.Equal(("13", "The request stream ended before a message was received."), response.GrpcStatus);
    }

    [Fact]
    public async Task Two_messages_for_a_unary_method_answer_internal()
    {
        var frame = RawGrpcClient.Frame(new StatusRequest().ToByteArray());

        var response = await _raw.PostAsync(Status, [.. frame, .. frame]);

        Assert.Equal(("13", "/smartcity.node.v1.NodeService/Status takes one request message, but the request carried more."), response.GrpcStatus);
    }

    [Fact]
    public async Task Message_over_the_receive_limit_answers_resource_exhausted_without_reading_it()
    {
        var response = await _raw.PostAsync(Status, [0, 0x7F, 0xFF, 0xFF, 0xFF]);

        Assert.Equal(("8", $"Received message of 2147483647 bytes exceeds the maximum message size of {InProcessNode.MaxReceiveMessageSize} bytes."), response.GrpcStatus);
    }

    [Fact]
    public async Task Unsupported_grpc_encoding_answers_unimplemented_and_names_the_supported_one()
    {
        var response = await _raw.PostAsync(Status, RawGrpcClient.Frame([]), headers: ("grpc-encoding", "gzip"));

        Assert.Equal(("12", "Unsupported grpc-encoding value 'gzip'. Supported encodings: identity"), response.GrpcStatus);
        Assert.Equal("identity", RawGrpcClient.Response.Value(response.Headers, "grpc-accept-encoding"));
    }

    [Fact]
    public async Task Non_grpc_content_type_answers_unsupported_media_type()
    {
        var response = await _raw.PostAsync(Status, RawGrpcClient.Frame([]), "application/json");

        Assert.Equal(System.Net.HttpStatusCode.UnsupportedMediaType, response.HttpStatus);
        Assert.Equal(("13", "Content-Type 'application/json' is not supported; expected 'application/grpc'."), response.GrpcStatus);
    }

    [Fact]
    public async Task Error_before_any_message_is_a_trailers_only_response()
    {
        var response = await _raw.PostAsync("/smartcity.node.v1.NodeService/Missing", RawGrpcClient.Frame([]));

        Assert.True(response.IsTrailersOnly);
        Assert.Empty(response.Trailers);
        Assert.Equal("application/grpc", response.ContentType);
        Assert.Equal(("12", "Method 'Missing' is not implemented by service 'smartcity.node.v1.NodeService'."), response.GrpcStatus);
    }

    [Fact]
    public async Task Status_message_is_percent_encoded_on_the_wire()
    {
        var response = await _raw.PostAsync("/smartcity.node.v1.NodeService/Grüß%", RawGrpcClient.Frame([]));

        Assert.Equal(("12", "Method 'Gr%C3%BC%C3%9F%25' is not implemented by service 'smartcity.node.v1.NodeService'."), response.GrpcStatus);
    }

    [Theory]
    [InlineData("200m")]
    [InlineData("200000u")]
    [InlineData("99999999n")]
    [InlineData("1S")]
    public async Task Grpc_timeout_header_sets_the_server_deadline(string timeout)
    {
        var watchId = WatchJournalProbe.NewWatchId("raw-timeout");
        var request = new WatchRequest { IntervalMs = 20, WatchId = watchId };

        var response = await _raw.PostAsync(Watch, RawGrpcClient.Frame(request.ToByteArray()), headers: ("grpc-timeout", timeout));

        Assert.Equal(("4", "Deadline Exceeded"), response.GrpcStatus);
        Assert.NotEmpty(response.Body);
        var outcome = await WatchJournalProbe.WaitForOutcomeAsync(node.Client, watchId);
        Assert.Equal(Ending.DeadlineExceeded, outcome.Ending);
    }

    [Fact]
    public async Task Malformed_grpc_timeout_header_is_ignored()
    {
        var request = new WatchRequest { IntervalMs = 1, Count = 2 };

        var response = await _raw.PostAsync(Watch, RawGrpcClient.Frame(request.ToByteArray()), headers: ("grpc-timeout", "1.5S"));

        Assert.Equal(("0", null), response.GrpcStatus);
    }
}
