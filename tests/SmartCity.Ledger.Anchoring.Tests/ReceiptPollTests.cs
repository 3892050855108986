using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SmartCity.Ledger.Anchoring.Evm;

namespace SmartCity.Ledger.Anchoring.Tests;

/// <summary>
/// Polling for a receipt against a scripted JSON-RPC endpoint: an EVM node that fails inside while it mines the
/// transaction (ganache 7: "Cannot read properties of undefined (reading 'toJSON')", code -32700) is asked again, not
/// taken as the end of the anchor; one that keeps failing ends in the confirmation timeout.
/// </summary>
public sealed class ReceiptPollTests
{
    private const string Hash = "0x1111111111111111111111111111111111111111111111111111111111111111";
    private const string BlockHash = "0x2222222222222222222222222222222222222222222222222222222222222222";

    [Fact]
    public async Task A_node_that_fails_inside_while_mining_is_asked_again_and_the_receipt_is_taken_when_it_comes()
    {
        using var rpc = new ScriptedRpc(failingReceipts: 2);
        using var chain = await EvmChain.ConnectAsync(Options(rpc, TimeSpan.FromSeconds(30)), null, TimeProvider.System, NullLogger.Instance, CancellationToken.None);

        var mined = await chain.WaitForConfirmationAsync([Hash], CancellationToken.None);

        Assert.NotNull(mined);
        Assert.Equal((Hash, 5L, BlockHash, true), (mined!.Hash, mined.BlockNumber, mined.BlockHash, mined.Succeeded));
        Assert.True(rpc.ReceiptQueries >= 4, $"{rpc.ReceiptQueries} receipt queries: two failures, then the receipt and its re-check");
    }

    [Fact]
    public async Task A_node_that_keeps_failing_ends_in_the_confirmation_timeout()
    {
        using var rpc = new ScriptedRpc(failingReceipts: int.MaxValue);
        using var chain = await EvmChain.ConnectAsync(Options(rpc, TimeSpan.FromSeconds(2)), null, TimeProvider.System, NullLogger.Instance, CancellationToken.None);

        Assert.Null(await chain.WaitForConfirmationAsync([Hash], CancellationToken.None));
        Assert.True(rpc.ReceiptQueries >= 2);
    }

    private static EvmOptions Options(ScriptedRpc rpc, TimeSpan timeout) => new()
    {
        RpcUrl = rpc.Url,
        Gas = GasPricing.Legacy,
        PollInterval = TimeSpan.FromMilliseconds(50),
        ReceiptTimeout = timeout,
        MaxRetries = 0,
    };

    /// <summary>A JSON-RPC endpoint on 127.0.0.1 whose first <c>failingReceipts</c> receipt queries fail as ganache's do.</summary>
    private sealed class ScriptedRpc : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _serving;
        private readonly int _failingReceipts;
        private int _receiptQueries;

        public ScriptedRpc(int failingReceipts)
        {
            _failingReceipts = failingReceipts;
            var port = FreePort();
            Url = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Add(Url.ToString());
            _listener.Start();
            _serving = Task.Run(ServeAsync);
        }

        public Uri Url { get; }

        public int ReceiptQueries => Volatile.Read(ref _receiptQueries);

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                using var request = await JsonDocument.ParseAsync(context.Request.InputStream);
                var id = request.RootElement.GetProperty("id").GetRawText();
                var method = request.RootElement.GetProperty("method").GetString();
                var body = method switch
                {
                    "eth_chainId" => Result(id, "\"0x539\""),
                    "eth_getBlockByNumber" => Result(id, $$"""{"number":"0x5","hash":"{{BlockHash}}","parentHash":"{{BlockHash}}","timestamp":"0x1","gasLimit":"0x1c9c380","gasUsed":"0x0","transactions":[]}"""),
                    "eth_blockNumber" => Result(id, "\"0x5\""),
                    "eth_getTransactionReceipt" => Interlocked.Increment(ref _receiptQueries) <= _failingReceipts
                        ? Error(id, -32700, "Cannot read properties of undefined (reading 'toJSON')")
                        : Result(id, $$"""{"transactionHash":"{{Hash}}","transactionIndex":"0x0","blockHash":"{{BlockHash}}","blockNumber":"0x5","from":"0x0000000000000000000000000000000000000001","to":"0x0000000000000000000000000000000000000002","cumulativeGasUsed":"0x5208","gasUsed":"0x5208","effectiveGasPrice":"0x1","contractAddress":null,"logs":[],"logsBloom":"0x00","status":"0x1","type":"0x0"}"""),
                    _ => Error(id, -32601, "method not found"),
                };
                var bytes = Encoding.UTF8.GetBytes(body);
                context.Response.ContentType = "application/json";
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }

        private static string Result(string id, string result) => "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":" + result + "}";

        private static string Error(string id, int code, string message)
            => "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"error\":" + JsonSerializer.Serialize(new { code, message }) + "}";

        private static int FreePort()
        {
            using var socket = new TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
