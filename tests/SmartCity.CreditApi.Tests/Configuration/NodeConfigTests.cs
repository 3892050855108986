using System.Text.Json.Nodes;
using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Keys;
using SmartCity.Testing;

namespace SmartCity.CreditApi.Tests.Configuration;

/// <summary><c>smartcity init</c>'s setups load; every bad configuration stops with one line naming the setting.</summary>
public sealed class NodeConfigTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-config-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Sample => RepositoryFiles.Read("contracts/genesis/sample-genesis.json");

    private Task<LocalSetupResult> InitAsync(params string[] regions) => InitAsync(CryptoSuiteId.Eth, regions);

    private Task<LocalSetupResult> InitAsync(CryptoSuiteId suite, params string[] regions) => LocalSetup.WriteAsync(_directory, Sample, regions, 50051, null, suite, TimeProvider.System, CancellationToken.None);

    [Theory]
    [InlineData(CryptoSuiteId.Eth)]
    [InlineData(CryptoSuiteId.Gm)]
    public async Task A_single_region_setup_loads_as_a_one_validator_chain_whose_key_is_the_validator(CryptoSuiteId suite)
    {
        var setup = await InitAsync(suite, "BJ");

        var startup = await NodeConfigLoader.LoadAsync(setup.Nodes[0].ConfigPath, CancellationToken.None);

        Assert.Equal(suite, startup.Genesis.Crypto.Suite);
        Assert.Equal(suite, startup.Signer!.Suite);
        Assert.All(setup.Members, m => Assert.Equal(suite, KeystoreFile.Describe(m.KeyPath).Suite));

        Assert.Single(startup.Genesis.Validators);
        Assert.Equal(startup.Genesis.Validators[0].Address, startup.Sealer!.Validator);
        Assert.Equal("BJ", startup.Config.Region);
        Assert.Equal("bj-1", startup.NodeId);
        Assert.Equal("embedded", startup.StoreKind);
        Assert.Equal(Path.Combine(_directory, "data", "bj"), startup.Embedded!.DataDirectory);
        Assert.Equal(KeySourceKind.Keystore, startup.Signer!.Kind);
        Assert.Contains("\"crypto\"", await File.ReadAllTextAsync(Path.Combine(_directory, "keys", "validator-bj.json")), StringComparison.Ordinal);
        Assert.Equal(DevelopmentKeystores.Password, (await File.ReadAllLinesAsync(setup.PasswordFile))[0]);
        Assert.Equal(8, setup.Members.Count);
        Assert.All(setup.Members, m => Assert.Contains(startup.Genesis.Members, g => g.Address == m.Address));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(setup.Members[0].KeyPath));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(setup.PasswordFile));
        }
    }

    [Theory]
    [InlineData(CryptoSuiteId.Eth)]
    [InlineData(CryptoSuiteId.Gm)]
    public async Task A_four_region_setup_writes_four_configs_on_distinct_loopback_ports_sharing_one_genesis(CryptoSuiteId suite)
    {
        var setup = await InitAsync(suite, "BJ", "TJ", "HE", "XA");

        var startups = await Task.WhenAll(setup.Nodes.Select(n => NodeConfigLoader.LoadAsync(n.ConfigPath, CancellationToken.None)));

        Assert.All(startups, s => Assert.Equal(suite, s.Signer!.Suite));

        Assert.Equal(["127.0.0.1:50051", "127.0.0.1:50052", "127.0.0.1:50053", "127.0.0.1:50054"], startups.Select(s => s.Listen.ToString()));
        Assert.Single(startups.Select(s => s.GenesisPath).Distinct());
        Assert.Equal(4, startups[0].Genesis.Validators.Count);
        Assert.Equal(4, startups.Select(s => s.Sealer!.Validator).Distinct().Count());
        Assert.Equal(4, startups.Select(s => s.Embedded!.DataDirectory).Distinct().Count());

        // Each node dials the other three at their listen addresses, as validators of the genesis.
        for (var i = 0; i < 4; i++)
        {
            var others = startups.Where((_, j) => j != i).OrderBy(o => o.Config.Region, StringComparer.Ordinal).ToList();
            var peers = startups[i].Peers.OrderBy(p => p.Region, StringComparer.Ordinal).ToList();
            Assert.Equal(others.Select(o => (o.Config.Region, o.Listen.ToString(), o.Sealer!.Validator)), peers.Select(p => (p.Region, $"{p.Address.Host}:{p.Address.Port}", p.Validator)));
        }

        Assert.Equal(4, startups.Select(s => s.JournalPath).Distinct().Count());
    }

    [Fact]
    public async Task Init_never_overwrites_an_existing_setup()
    {
        await InitAsync("BJ");
        var genesis = await File.ReadAllTextAsync(Path.Combine(_directory, "genesis.json"));

        var error = await Assert.ThrowsAsync<NodeConfigurationException>(() => InitAsync("BJ"));

        Assert.Contains("never overwrites", error.Message, StringComparison.Ordinal);
        Assert.Equal(genesis, await File.ReadAllTextAsync(Path.Combine(_directory, "genesis.json")));
    }

    public static TheoryData<string, string, string> BadConfigs => new()
    {
        { "unknown key", """{"region":"BJ","genesis":"genesis.json","colour":"blue"}""", "colour" },
        { "not JSON", """{"region":"BJ",""", "config" },
        { "no region", """{"genesis":"genesis.json"}""", "region is required" },
        { "bad listen", """{"region":"BJ","genesis":"genesis.json","listen":"localhost"}""", "listen must be HOST:PORT" },
        { "bad http listen", """{"region":"BJ","genesis":"genesis.json","httpListen":"localhost:8080"}""", "httpListen must be HOST:PORT" },
        { "http listen on the grpc port", """{"region":"BJ","genesis":"genesis.json","listen":"127.0.0.1:50051","httpListen":"127.0.0.1:50051"}""", "give the HTTP/1.1 gateway its own port" },
        { "storage kind", """{"region":"BJ","genesis":"genesis.json","storage":{"kind":"mongo"}}""", "storage.kind must be" },
        { "postgres without connection", """{"region":"BJ","genesis":"genesis.json","storage":{"kind":"postgres"}}""", "storage.connectionString is required" },
        { "bad schema", """{"region":"BJ","genesis":"genesis.json","storage":{"kind":"postgres","connectionString":"Host=x","schema":"Robert'); DROP"}}""", "storage.schema" },
        { "negative limit", """{"region":"BJ","genesis":"genesis.json","limits":{"mempoolCapacity":0}}""", "limits.mempoolCapacity" },
        { "wrong type", """{"region":"BJ","genesis":"genesis.json","limits":{"maxNonceGap":"many"}}""", "'many' at 'limits.maxNonceGap'" },
        { "negative retention", """{"region":"BJ","genesis":"genesis.json","retention":{"stateVersions":-1}}""", "retention.stateVersions" },
        { "pruning step", """{"region":"BJ","genesis":"genesis.json","retention":{"stateVersions":100,"pruneEveryBlocks":0}}""", "retention.pruneEveryBlocks must be at least 1" },
        { "no state node cache", """{"region":"BJ","genesis":"genesis.json","memory":{"stateNodeCacheMiB":0}}""", "memory.stateNodeCacheMiB must be between 1 and 65536 (64 GiB), got 0" },
        { "huge state node cache", """{"region":"BJ","genesis":"genesis.json","memory":{"stateNodeCacheMiB":1000000}}""", "memory.stateNodeCacheMiB must be between 1 and 65536 (64 GiB), got 1000000" },
        { "no head state cache", """{"region":"BJ","genesis":"genesis.json","memory":{"headStateCacheMiB":-5}}""", "memory.headStateCacheMiB must be between 1 and 65536 (64 GiB), got -5" },
        { "tiny memory budget", """{"region":"BJ","genesis":"genesis.json","memory":{"limitMiB":100}}""", "memory.limitMiB must be 0 (off) or between 256 and 65536 (64 GiB), got 100" },
        { "negative memory budget", """{"region":"BJ","genesis":"genesis.json","memory":{"limitMiB":-1}}""", "memory.limitMiB must be 0 (off) or between 256 and 65536 (64 GiB), got -1" },
        { "tiny head state cache", """{"region":"BJ","genesis":"genesis.json","memory":{"headStateCacheEntries":10}}""", "memory.headStateCacheEntries must be at least 1024, got 10" },
        { "tiny history cache", """{"region":"BJ","genesis":"genesis.json","memory":{"historyNodeCacheEntries":1}}""", "memory.historyNodeCacheEntries must be at least 1024, got 1" },
        { "unknown memory key", """{"region":"BJ","genesis":"genesis.json","memory":{"gcHeapMiB":512}}""", "gcHeapMiB" },
        { "missing genesis", """{"region":"BJ","genesis":"nowhere.json"}""", "genesis" },
        { "region not in genesis", """{"region":"SH","genesis":"genesis.json"}""", "region 'SH' is not a region of the genesis" },
        { "key not the region's validator", """{"region":"BJ","genesis":"genesis.json","validatorKey":{"keystore":{"path":"keys/member-bj.json","password":{"file":"keys/password"}}}}""", "but the configuration expects" },
        { "keystore missing", """{"region":"BJ","genesis":"genesis.json","validatorKey":{"keystore":{"path":"keys/none.json","password":{"file":"keys/password"}}}}""", "none.json" },
        { "key without a source", """{"region":"BJ","genesis":"genesis.json","validatorKey":{"insecurePlaintext":false}}""", "validatorKey: the key source names none" },
        { "password without a source", """{"region":"BJ","genesis":"genesis.json","validatorKey":{"keystore":{"path":"keys/validator-bj.json"}}}""", "validatorKey: Keystore.Password" },
        { "password variable unset", """{"region":"BJ","genesis":"genesis.json","validatorKey":{"keystore":{"path":"keys/validator-bj.json","password":{"environment":"SMARTCITY_TEST_UNSET_PASSWORD_VARIABLE"}}}}""", "SMARTCITY_TEST_UNSET_PASSWORD_VARIABLE" },
        { "clear-text key without consent", """{"region":"BJ","genesis":"genesis.json","validatorKey":{"plaintext":{"path":"keys/dev-key.json"}}}""", "refused unless InsecurePlaintext" },
        { "idle timeout of a minute", """{"region":"BJ","genesis":"genesis.json","server":{"idleTimeout":"00:01:00"}}""", "server.idleTimeout must be at least 1 s and under a minute" },
        { "handshake timeout too long", """{"region":"BJ","genesis":"genesis.json","server":{"handshakeTimeout":"00:05:00"}}""", "server.handshakeTimeout" },
        { "no connections", """{"region":"BJ","genesis":"genesis.json","server":{"maxConnections":0}}""", "server.maxConnections" },
        { "watchers take every stream", """{"region":"BJ","genesis":"genesis.json","server":{"maxStreamsPerConnection":10,"maxWatchSubscribersPerConnection":10}}""", "server.maxWatchSubscribersPerConnection must be positive and below server.maxStreamsPerConnection (10)" },
        { "no watchers", """{"region":"BJ","genesis":"genesis.json","server":{"maxWatchSubscribers":0}}""", "server.maxWatchSubscribers must be positive" },
        { "huge messages", """{"region":"BJ","genesis":"genesis.json","maxMessageBytes":1073741824}""", "maxMessageBytes must be between 1 and 67108864" },
        { "peer address not an endpoint", """{"region":"BJ","genesis":"genesis.json","peers":{"TJ":"somewhere"}}""", "peers.TJ must be HOST:PORT with an IP address and a port, or an http:// or https:// URL, got 'somewhere'" },
        { "peer region without a validator", """{"region":"BJ","genesis":"genesis.json","peers":{"TJ":"127.0.0.1:50052"}}""", "peers.TJ: the genesis has no validator for region TJ" },
        { "peer is the node itself", """{"region":"BJ","genesis":"genesis.json","peers":{"BJ":"127.0.0.1:50052"}}""", "peers.BJ: a node does not dial itself" },
        { "peer key neither a region nor an address", """{"region":"BJ","genesis":"genesis.json","peers":{"SH":"127.0.0.1:50052"}}""", "peers.SH: the genesis has no validator for region SH (a key is a genesis region, BJ, or a validator's 0x address)" },
        { "peer address key malformed", """{"region":"BJ","genesis":"genesis.json","peers":{"0x12":"127.0.0.1:50052"}}""", "peers.0x12: not a validator address" },
        { "validator address not an address", """{"region":"BJ","genesis":"genesis.json","validatorKey":{"keystore":{"path":"keys/validator-bj.json","password":{"file":"keys/password"}}},"validatorAddress":"nope"}""", "validatorAddress: 'nope' is not an address" },
        { "validator address without a key", """{"region":"BJ","genesis":"genesis.json","validatorAddress":"0x0000000000000000000000000000000000000001"}""", "validatorAddress: set without validatorKey" },
        { "validator address not the key's", """{"region":"BJ","genesis":"genesis.json","validatorKey":{"keystore":{"path":"keys/validator-bj.json","password":{"file":"keys/password"}}},"validatorAddress":"0x0000000000000000000000000000000000000001"}""", "but the configuration expects" },
        { "zero round timeout", """{"region":"BJ","genesis":"genesis.json","consensus":{"baseRoundTimeout":"00:00:00"}}""", "consensus: " },
        { "log format", """{"region":"BJ","genesis":"genesis.json","logging":{"format":"xml"}}""", "logging.format must be simple or json, got 'xml'" },
        { "unknown server key", """{"region":"BJ","genesis":"genesis.json","server":{"maxSockets":5}}""", "maxSockets" },
    };

    [Fact]
    public async Task The_memory_section_sizes_the_chains_caches_and_its_absence_keeps_the_chains_defaults()
    {
        var setup = await InitAsync("BJ");
        var path = setup.Nodes[0].ConfigPath;
        var defaults = (await NodeConfigLoader.LoadAsync(path, CancellationToken.None)).Config.ToChainOptions();
        Assert.Equal(Ledger.Node.LedgerChainOptions.Default, defaults);

        var config = JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
        config["memory"] = new JsonObject { ["stateNodeCacheMiB"] = 96, ["headStateCacheMiB"] = 48, ["headStateCacheEntries"] = 4096, ["historyNodeCacheEntries"] = 2048 };
        config["retention"] = new JsonObject { ["stateVersions"] = 500 };
        await File.WriteAllTextAsync(path, config.ToJsonString());

        var options = (await NodeConfigLoader.LoadAsync(path, CancellationToken.None)).Config.ToChainOptions();

        Assert.Equal(96L << 20, options.StateNodeCacheBytes);
        Assert.Equal(48L << 20, options.HeadStateCacheBytes);
        Assert.Equal(4096, options.HeadStateCacheEntries);
        Assert.Equal(2048, options.HistoryNodeCacheEntries);
        Assert.Equal(500, options.StateRetentionBlocks);
        options.Validate();
    }

    [Fact]
    public async Task The_memory_budget_is_a_GiB_unless_set_and_zero_turns_it_off()
    {
        var setup = await InitAsync("BJ");
        var path = setup.Nodes[0].ConfigPath;
        var budget = (await NodeConfigLoader.LoadAsync(path, CancellationToken.None)).Config.Memory?.ToBudget() ?? new MemoryConfig().ToBudget();
        Assert.Equal((1024L << 20, 832L << 20, 64L << 20), (budget!.LimitBytes, budget.MarkBytes, budget.SlackBytes));

        var config = JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
        config["memory"] = new JsonObject { ["limitMiB"] = 2048 };
        await File.WriteAllTextAsync(path, config.ToJsonString());
        Assert.Equal(2048L << 20, (await NodeConfigLoader.LoadAsync(path, CancellationToken.None)).Config.Memory!.ToBudget()!.LimitBytes);

        config["memory"] = new JsonObject { ["limitMiB"] = 0 };
        await File.WriteAllTextAsync(path, config.ToJsonString());
        Assert.Null((await NodeConfigLoader.LoadAsync(path, CancellationToken.None)).Config.Memory!.ToBudget());
    }

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public async Task A_bad_configuration_stops_with_one_line_naming_the_setting(string name, string json, string expected)
    {
        await InitAsync("BJ");
        var path = Path.Combine(_directory, $"bad-{name.Replace(' ', '-')}.json");
        await File.WriteAllTextAsync(path, json);

        var error = await Assert.ThrowsAsync<NodeConfigurationException>(() => NodeConfigLoader.LoadAsync(path, CancellationToken.None));

        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task Init_join_writes_a_validator_not_in_the_genesis_whose_config_dials_every_node_and_a_peer_can_be_named_by_address()
    {
        var setup = await InitAsync("BJ", "TJ", "HE", "XA");

        var joined = await LocalSetup.JoinAsync(_directory, "BJ", "127.0.0.1:50060", CancellationToken.None);
        var startup = await NodeConfigLoader.LoadAsync(joined.ConfigPath, CancellationToken.None);

        // Its own key (checked against validatorAddress), not a genesis validator; it dials the four by region.
        Assert.Equal(joined.Address, startup.Signer!.Address);
        Assert.DoesNotContain(startup.Genesis.Validators, v => v.Address == joined.Address);
        Assert.Equal(["BJ", "HE", "TJ", "XA"], startup.Peers.Select(p => p.Region).Order(StringComparer.Ordinal));
        Assert.Equal(startup.Genesis.Validators.Select(v => v.Address).Order(), startup.Peers.Select(p => p.Validator).Order());
        Assert.Equal("bj-2", startup.NodeId);
        Assert.EndsWith(Path.Combine("data", "bj-2"), startup.Embedded!.DataDirectory, StringComparison.Ordinal);
        Assert.Equal((joined.Address.ToString(), "127.0.0.1:50060"), (joined.PeerEntry.Key, joined.PeerEntry.Value));

        // A genesis node names it by address in its peers; naming one validator twice, or a port twice, is refused.
        var tj = JsonNode.Parse(await File.ReadAllTextAsync(setup.Nodes[1].ConfigPath))!.AsObject();
        tj["peers"]![joined.PeerEntry.Key] = joined.PeerEntry.Value;
        await File.WriteAllTextAsync(setup.Nodes[1].ConfigPath, tj.ToJsonString());
        var dialing = await NodeConfigLoader.LoadAsync(setup.Nodes[1].ConfigPath, CancellationToken.None);
        Assert.Contains(dialing.Peers, p => p.Validator == joined.Address && p.Address == new Uri("http://127.0.0.1:50060") && p.Region == joined.Address.ToString());
        var bj = startup.Genesis.Validators.Single(v => v.Region == "BJ").Address;
        tj["peers"]![bj.ToString()] = "127.0.0.1:50070";
        await File.WriteAllTextAsync(setup.Nodes[1].ConfigPath, tj.ToJsonString());
        var twice = await Assert.ThrowsAsync<NodeConfigurationException>(() => NodeConfigLoader.LoadAsync(setup.Nodes[1].ConfigPath, CancellationToken.None));
        Assert.Contains($"names validator {bj} again", twice.Message, StringComparison.Ordinal);
        var clash = await Assert.ThrowsAsync<NodeConfigurationException>(() => LocalSetup.JoinAsync(_directory, "TJ", "127.0.0.1:50052", CancellationToken.None));
        Assert.Contains("listens there already", clash.Message, StringComparison.Ordinal);
        var second = await LocalSetup.JoinAsync(_directory, "BJ", "127.0.0.1:50061", CancellationToken.None);
        Assert.Equal("validator-bj-3", second.Name);
        Assert.Contains(second.OtherConfigs, c => c == joined.ConfigPath); // the first newcomer is a sibling, named by address
    }

    [Fact]
    public async Task A_validator_keystore_with_the_wrong_password_stops_the_node_with_one_line()
    {
        await InitAsync("BJ");
        var wrong = Path.Combine(_directory, "keys", "wrong-password");
        await File.WriteAllTextAsync(wrong, "not the password\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(wrong, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var path = Path.Combine(_directory, "wrong-password.json");
        await File.WriteAllTextAsync(path, """{"region":"BJ","genesis":"genesis.json","validatorKey":{"keystore":{"path":"keys/validator-bj.json","password":{"file":"keys/wrong-password"}}}}""");

        var error = await Assert.ThrowsAsync<NodeConfigurationException>(() => NodeConfigLoader.LoadAsync(path, CancellationToken.None));

        Assert.StartsWith("validatorKey: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("wrong password", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task A_setup_on_postgresql_gives_each_node_its_own_schema()
    {
        var setup = await LocalSetup.WriteAsync(_directory, Sample, ["BJ", "TJ"], 40000, "Host=/tmp;Username=ledger", TimeProvider.System, CancellationToken.None);
        var config = JsonNode.Parse(await File.ReadAllTextAsync(setup.Nodes[1].ConfigPath))!;

        var startup = await NodeConfigLoader.LoadAsync(setup.Nodes[1].ConfigPath, CancellationToken.None);

        Assert.Equal("postgres", (string?)config["storage"]!["kind"]);
        Assert.Equal("node_tj", startup.Postgres!.Schema);
        Assert.Null(startup.Embedded);
        Assert.NotEqual(default(Address), startup.Sealer!.Validator);
    }
}
