using SmartCity.CreditApi.Cli;

namespace SmartCity.CreditApi.Tests.Cli;

public sealed class CryptoCommandTests : IDisposable
{
    // The example of EIP-712 itself (eips.ethereum.org/EIPS/eip-712): digest and the signature by keccak256("cow").
    private const string MailExample = """
        {
          "types": {
            "EIP712Domain": [
              { "name": "name", "type": "string" }, { "name": "version", "type": "string" },
              { "name": "chainId", "type": "uint256" }, { "name": "verifyingContract", "type": "address" }
            ],
            "Person": [ { "name": "name", "type": "string" }, { "name": "wallet", "type": "address" } ],
            "Mail": [ { "name": "from", "type": "Person" }, { "name": "to", "type": "Person" }, { "name": "contents", "type": "string" } ]
          },
          "primaryType": "Mail",
          "domain": { "name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC" },
          "message": {
            "from": { "name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
            "to": { "name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
            "contents": "Hello, Bob!"
          }
        }
        """;

    private const string MailDigest = "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2";
    private const string MailSignature = "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c";
    private const string CowKeyFile = """{"address":"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826","privateKey":"0xc85ef7d79691fe79573b1a7064c19c1a9819ebdbd1faaab1a8ec92344438aaf4"}""";

    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Eip712_digest_prints_the_digest_of_the_file()
    {
        var (code, output, error) = await RunAsync("crypto", "eip712-digest", "--typed-data", Write("mail.json", MailExample));
        Assert.Equal((0, MailDigest, ""), (code, output.Trim(), error));
    }

    [Fact]
    public async Task Sign_prints_the_deterministic_signature()
    {
        var (code, output, error) = await RunAsync("crypto", "sign", "--typed-data", Write("mail.json", MailExample), "--key", Write("cow.json", CowKeyFile), "--insecure-plaintext");
        Assert.Equal((0, MailSignature), (code, output.Trim()));
        Assert.Contains("CLEAR TEXT", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recover_prints_the_checksummed_signer()
    {
        var (code, output, _) = await RunAsync("crypto", "recover", "--typed-data", Write("mail.json", MailExample), "--signature", MailSignature);
        Assert.Equal((0, "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"), (code, output.Trim()));
    }

    [Fact]
    public async Task A_key_made_by_keys_new_signs_and_recovers_to_its_address()
    {
        var keyPath = Path.Combine(_directory, "member.json");
        var password = Write("password", "member password");
        var (code, address, _) = await RunAsync("keys", "new", "--out", keyPath, "--password-file", password, "--scrypt-n", "4096");
        Assert.Equal(0, code);
        Assert.Matches("^0x[0-9a-fA-F]{40}$", address.Trim());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        }

        var typedData = Write("mail.json", MailExample);
        var (_, signature, _) = await RunAsync("crypto", "sign", "--typed-data", typedData, "--key", keyPath, "--password-file", password);
        var (_, signer, _) = await RunAsync("crypto", "recover", "--typed-data", typedData, "--signature", signature.Trim());
        Assert.Equal(address.Trim(), signer.Trim());
    }

    [Fact]
    public async Task Keys_new_never_overwrites_an_existing_file()
    {
        var keyPath = Write("taken.json", CowKeyFile);
        var (code, _, error) = await RunAsync("keys", "new", "--out", keyPath, "--password-file", Write("password", "a password"), "--scrypt-n", "4096");
        Assert.Equal(2, code);
        Assert.Contains("never overwritten", error, StringComparison.Ordinal);
        Assert.Equal(CowKeyFile, await File.ReadAllTextAsync(keyPath));
    }

    [Fact]
    public async Task Keys_new_prints_a_clear_text_key_only_when_asked_and_warns()
    {
        var (code, output, error) = await RunAsync("keys", "new", "--insecure-plaintext");
        Assert.Equal(0, code);
        Assert.Contains("\"privateKey\":\"0x", output, StringComparison.Ordinal);
        Assert.StartsWith("warning: this key is in CLEAR TEXT", error, StringComparison.Ordinal);

        var (refused, nothing, why) = await RunAsync("keys", "new");
        Assert.Equal((2, ""), (refused, nothing));
        Assert.Contains("missing --out", why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("high-s twin (r, n - s, v flipped) of the valid signature", "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9df8d666c92cfb3eac09bbc205fa0bf00eb2d7b3d4f8517d33c63c3b76ca7d2bdf1b", "EIP-2")]
    [InlineData("bad v", "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621d", "v must be")]
    [InlineData("short", "0x4355", "130 hex digits")]
    public async Task Recover_rejects_a_bad_signature_with_one_line_and_exit_code_2(string _, string signature, string message)
    {
        var (code, output, error) = await RunAsync("crypto", "recover", "--typed-data", Write("mail.json", MailExample), "--signature", signature);
        Assert.Equal((2, ""), (code, output));
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData("{ not json", "MalformedDocument")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"uint8"}]},"primaryType":"T","domain":{},"message":{"a":300}}""", "IntegerOutOfRange")]
    public async Task Bad_typed_data_is_one_line_on_stderr_and_exit_code_2(string json, string reason)
    {
        var (code, _, error) = await RunAsync("crypto", "eip712-digest", "--typed-data", Write("bad.json", json));
        Assert.Equal(2, code);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Missing_files_and_bad_key_files_are_usage_errors()
    {
        var typedData = Write("mail.json", MailExample);
        Assert.Equal(2, (await RunAsync("crypto", "eip712-digest", "--typed-data", Path.Combine(_directory, "absent.json"))).Code);
        Assert.Equal(2, (await RunAsync("crypto", "sign", "--typed-data", typedData, "--key", Write("k.json", """{"privateKey":"0x00"}"""), "--insecure-plaintext")).Code);
        Assert.Equal(2, (await RunAsync("crypto", "sign", "--typed-data", typedData, "--key", Write("zero.json", $$"""{"privateKey":"0x{{new string('0', 64)}}"}"""), "--insecure-plaintext")).Code);
        Assert.Equal(2, (await RunAsync("crypto", "sign", "--typed-data", typedData, "--key", Write("cow.json", CowKeyFile))).Code);
        Assert.Equal(2, (await RunAsync("crypto", "sign", "--typed-data", typedData)).Code);
        Assert.Equal(2, (await RunAsync("crypto", "eip712-digest", "--typed-data", typedData, "--bogus", "1")).Code);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return path;
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
