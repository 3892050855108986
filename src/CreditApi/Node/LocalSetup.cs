using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Keys;

namespace SmartCity.CreditApi.Node;

/// <summary>
/// What <c>smartcity init --join REGION</c> wrote into an existing setup: a validator not in the genesis (its key, its
/// address, its node config) and the <c>peers</c> entry the other nodes' configs need to dial it.
/// </summary>
public sealed record JoinedValidator(string Region, string Name, Address Address, string KeyPath, string ConfigPath, string Listen, KeyValuePair<string, string> PeerEntry, IReadOnlyList<string> OtherConfigs);

/// <summary>What <c>smartcity init</c> wrote: the genesis, a config per node, the keystores and their password file.</summary>
public sealed record LocalSetupResult(string GenesisPath, IReadOnlyList<(string Region, string ConfigPath, string Listen)> Nodes, IReadOnlyList<(string Name, string KeyPath, Address Address)> Members, string PasswordFile);

/// <summary>
/// Writes a working local setup (<c>smartcity init</c>): a fresh genesis with the consortium's regions and parameters
/// (as in the sample genesis), a new validator key per chosen region, a new member key per region (a market regulator
/// with the credit, licence, list and measure roles) and a joint credit office (memoranda), and one node config per
/// region on consecutive loopback ports. One region makes a single-node ledger that seals its own blocks; several
/// regions make a consortium whose configs name each other as peers (four or more run QBFT). Every key is a fresh key in an encrypted Web3 Secret
/// Storage keystore (mode 0600) under the public development password <see cref="DevelopmentKeystores.Password"/>
/// (<c>smartcity-dev</c>), kept in <c>keys/password</c> (mode 0600) which the node configs name, with geth's light
/// scrypt parameters so a node opens its key in milliseconds. Development only: re-encrypt with
/// <c>smartcity keys import</c> (standard parameters, a real password) before any key guards anything. Nothing that
/// exists is overwritten. With the gm suite the genesis says <c>"crypto": "gm"</c> and every key is an SM2 key in a gm
/// keystore (SM4-CTR, SM3 MAC; docs/keys.md), its address the last 20 bytes of SM3(x‖y).
/// </summary>
public static class LocalSetup
{
    private static readonly Dictionary<string, (string Division, string Regulator)> Known = new(StringComparer.Ordinal)
    {
        ["BJ"] = ("110000", "Beijing Municipal Administration for Market Regulation"),
        ["TJ"] = ("120000", "Tianjin Municipal Commission for Market Regulation"),
        ["HE"] = ("130000", "Hebei Provincial Administration for Market Regulation"),
        ["XA"] = ("133100", "Xiong'an New Area Administrative Committee"),
    };

    public static IReadOnlyCollection<string> Regions => Known.Keys;

    /// <param name="directory">Where to write; created if missing; must not already hold a genesis.json.</param>
    /// <param name="sampleGenesisText">The sample genesis (regions and parameters are taken from it).</param>
    /// <param name="regions">Regions that get a validator node, e.g. BJ, or BJ, TJ, HE, XA.</param>
    /// <param name="basePort">The first node's port; the others follow (0: each node on a port the OS chooses).</param>
    /// <param name="postgres">A PostgreSQL connection string (each node gets its own schema), or null for embedded stores.</param>
    /// <param name="time">The clock that dates the genesis.</param>
    /// <param name="cancellationToken">Cancels the writing.</param>
    public static Task<LocalSetupResult> WriteAsync(string directory, string sampleGenesisText, IReadOnlyList<string> regions, int basePort, string? postgres, TimeProvider time, CancellationToken cancellationToken)
        => WriteAsync(directory, sampleGenesisText, regions, basePort, postgres, CryptoSuiteId.Eth, time, cancellationToken);

    /// <summary>As the overload above, for a chain of the crypto suite <paramref name="suite"/> (eth or gm).</summary>
    public static async Task<LocalSetupResult> WriteAsync(string directory, string sampleGenesisText, IReadOnlyList<string> regions, int basePort, string? postgres, CryptoSuiteId suite, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(regions);
        ArgumentNullException.ThrowIfNull(time);
        if (regions.Count == 0 || regions.Distinct().Count() != regions.Count || regions.Any(r => !Known.ContainsKey(r)))
        {
            throw new NodeConfigurationException($"--regions must be distinct regions of {string.Join(", ", Known.Keys)}, got '{string.Join(",", regions)}'");
        }

        if (basePort is < 0 or > 65535 || basePort + regions.Count - 1 > 65535)
        {
            throw new NodeConfigurationException($"--base-port must leave room for {regions.Count} ports below 65536 (0: every node on a port the OS chooses), got {basePort}");
        }

        if (basePort == 0 && regions.Count > 1)
        {
            throw new NodeConfigurationException("--base-port 0 works for one region only: the validators of a consortium dial each other at fixed ports (each config's peers)");
        }

        var genesisPath = Path.Combine(directory, "genesis.json");
        var keys = Path.Combine(directory, "keys");
        var passwordFile = Path.Combine(keys, "password");
        var targets = new[] { genesisPath, passwordFile, Path.Combine(keys, "member-joint-office.json") }
            .Concat(ApiReaders.Select(r => Path.Combine(keys, r.File)))
            .Concat(Known.Keys.Select(r => Path.Combine(keys, $"member-{r.ToLowerInvariant()}.json")))
            .Concat(regions.SelectMany(r => new[] { Path.Combine(keys, $"validator-{r.ToLowerInvariant()}.json"), Path.Combine(directory, $"node-{r.ToLowerInvariant()}.json") }));
        if (targets.FirstOrDefault(File.Exists) is { } existing)
        {
            throw new NodeConfigurationException($"'{existing}' exists; init never overwrites a setup (choose an empty --dir)");
        }

        Directory.CreateDirectory(keys);
        await WriteNewAsync(passwordFile, DevelopmentKeystores.Password + "\n", owner: true, cancellationToken).ConfigureAwait(false);
        var genesis = JsonNode.Parse(sampleGenesisText)!.AsObject();
        var members = new JsonArray();
        var memberKeys = new List<(string, string, Address)>();
        var sequence = 1;
        foreach (var region in Known.Keys)
        {
            var (division, name) = Known[region];
            var (path, address) = NewKeystore(Path.Combine(keys, $"member-{region.ToLowerInvariant()}.json"), suite);
            members.Add(Member(address, Uscc(division, sequence++), name, region, ["CreditDesignator", "LicenceIssuer", "ListInitiator", "MeasureImplementer"]));
            memberKeys.Add((name, path, address));
        }

        var (officePath, office) = NewKeystore(Path.Combine(keys, "member-joint-office.json"), suite);
        members.Add(Member(office, Uscc("110000", sequence), "Beijing-Tianjin-Hebei Joint Credit Office", "BJ", ["MemorandumPublisher"]));
        memberKeys.Add(("Beijing-Tianjin-Hebei Joint Credit Office", officePath, office));

        // The credit API's readers (docs/api.md): a credit bureau, a bank and a supervising regulator, all in Beijing.
        foreach (var (file, name, role) in ApiReaders)
        {
            var (path, address) = NewKeystore(Path.Combine(keys, file), suite);
            members.Add(Member(address, Uscc("110000", ++sequence), name, "BJ", [role]));
            memberKeys.Add((name, path, address));
        }

        var validators = new JsonArray();
        var nodes = new List<(string, string, string)>();
        for (var i = 0; i < regions.Count; i++)
        {
            var region = regions[i];
            var lower = region.ToLowerInvariant();
            var (_, validator) = NewKeystore(Path.Combine(keys, $"validator-{lower}.json"), suite);
            validators.Add(new JsonObject { ["address"] = validator.ToString(), ["name"] = $"validator-{lower}", ["region"] = region });
            var listen = Listen(i);
            var peers = new JsonObject();
            for (var j = 0; j < regions.Count; j++)
            {
                if (j != i)
                {
                    peers[regions[j]] = Listen(j);
                }
            }

            var storage = postgres is null
                ? new JsonObject { ["kind"] = StorageConfig.Embedded, ["dataDirectory"] = $"data/{lower}" }
                : new JsonObject { ["kind"] = StorageConfig.Postgres, ["connectionString"] = postgres, ["schema"] = $"node_{lower}" };
            var config = new JsonObject
            {
                ["nodeId"] = $"{lower}-1",
                ["region"] = region,
                ["genesis"] = "genesis.json",
                ["validatorKey"] = new JsonObject
                {
                    ["keystore"] = new JsonObject { ["path"] = $"keys/validator-{lower}.json", ["password"] = new JsonObject { ["file"] = "keys/password" } },
                },
                ["storage"] = storage,
                ["listen"] = listen,
                ["retention"] = new JsonObject { ["stateVersions"] = 0 },
                ["limits"] = new JsonObject { ["mempoolCapacity"] = 50_000, ["maxNonceGap"] = 64 },
            };
            if (regions.Count > 1)
            {
                config["peers"] = peers;
            }

            var configPath = Path.Combine(directory, $"node-{lower}.json");
            await WriteNewAsync(configPath, config.ToJsonString(Indented) + "\n", owner: false, cancellationToken).ConfigureAwait(false);
            nodes.Add((region, configPath, listen));
        }

        string Listen(int index) => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{(basePort == 0 ? 0 : basePort + index)}");

        genesis["genesisTime"] = time.GetUtcNow().ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        genesis["members"] = members;
        genesis["validators"] = validators;
        genesis.Remove("sm2Id");
        if (suite == CryptoSuiteId.Eth)
        {
            genesis.Remove("crypto");
        }
        else
        {
            genesis["crypto"] = suite.ToName();
        }

        var genesisText = genesis.ToJsonString(Indented) + "\n";
        var check = GenesisLoader.Load(genesisText);
        if (!check.IsValid)
        {
            // A suite this build's genesis loader refuses is the operator's choice, not a bug in what was generated.
            throw suite != CryptoSuiteId.Eth && check.Errors.Any(e => e.ToString().StartsWith("$.crypto", StringComparison.Ordinal))
                ? new NodeConfigurationException($"--crypto {suite.ToName()}: {check.Errors[0]}")
                : new InvalidOperationException($"the generated genesis does not load: {check.Errors[0]}");
        }

        await WriteNewAsync(genesisPath, genesisText, owner: false, cancellationToken).ConfigureAwait(false);
        return new LocalSetupResult(genesisPath, nodes, memberKeys, passwordFile);
    }

    /// <summary>
    /// Writes, into a setup <see cref="WriteAsync(string, string, IReadOnlyList{string}, int, string?, CryptoSuiteId, TimeProvider, CancellationToken)"/>
    /// made, a validator that is not in its genesis, to be voted in by governance (docs/consensus.md, "Adding and
    /// removing a validator"): a fresh key <c>keys/validator-REGION-N.json</c> of the chain's suite under the setup's
    /// password, and <c>node-REGION-N.json</c>, a copy of a sibling config (storage kind, limits, consensus timers) with
    /// its own node id, data directory or schema, listener, <c>validatorAddress</c> and <c>peers</c> naming every other
    /// node of the setup (genesis validators by region, validators voted in by address). It starts from genesis and
    /// catches up from its peers once they admit it (from the vote's activation height). Never overwrites a file.
    /// </summary>
    /// <param name="directory">The setup's directory (its genesis.json and node-*.json).</param>
    /// <param name="region">The new validator's region, a region of the genesis.</param>
    /// <param name="listen">Where it listens, IP:PORT, a port no other config of the setup uses.</param>
    /// <param name="cancellationToken">Cancels the writing.</param>
    public static async Task<JoinedValidator> JoinAsync(string directory, string region, string listen, CancellationToken cancellationToken)
    {
        var genesisPath = Path.Combine(directory, "genesis.json");
        if (!File.Exists(genesisPath))
        {
            throw new NodeConfigurationException($"--join: '{genesisPath}' does not exist; --dir must be a setup smartcity init wrote");
        }

        var loaded = GenesisLoader.Load(await File.ReadAllTextAsync(genesisPath, cancellationToken).ConfigureAwait(false));
        var genesis = loaded.IsValid ? loaded.Document! : throw new NodeConfigurationException($"--join: genesis '{genesisPath}': {loaded.Errors[0]}");
        if (!genesis.Regions.Any(r => r.Code == region))
        {
            throw new NodeConfigurationException($"--join: '{region}' is not a region of the genesis ({string.Join(", ", genesis.Regions.Select(r => r.Code))})");
        }

        if (!System.Net.IPEndPoint.TryParse(listen, out var endpoint) || endpoint.Port == 0 || !listen.Contains(':', StringComparison.Ordinal))
        {
            throw new NodeConfigurationException($"--listen must be IP:PORT with a port other than 0 (the other nodes dial it), got '{listen}'");
        }

        var siblings = Directory.GetFiles(directory, "node-*.json").Order(StringComparer.Ordinal)
            .Select(path => (Path: path, Config: JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new NodeConfigurationException($"--join: '{path}' is not a node config")))
            .ToList();
        if (siblings.Count == 0)
        {
            throw new NodeConfigurationException($"--join: '{directory}' has no node-*.json config to join");
        }

        var peers = new JsonObject();
        foreach (var (path, config) in siblings)
        {
            var theirListen = (string?)config["listen"] ?? throw new NodeConfigurationException($"--join: '{path}' has no listen address");
            if (theirListen == listen)
            {
                throw new NodeConfigurationException($"--listen {listen}: '{path}' listens there already");
            }

            var key = (string?)config["validatorAddress"] ?? (string?)config["region"] ?? throw new NodeConfigurationException($"--join: '{path}' has no region");
            peers[key] = theirListen;
        }

        var lower = region.ToLowerInvariant();
        var n = 2;
        while (File.Exists(Path.Combine(directory, "keys", $"validator-{lower}-{n}.json")) || File.Exists(Path.Combine(directory, $"node-{lower}-{n}.json")))
        {
            n++;
        }

        var id = $"{lower}-{n}";
        var keyPath = Path.Combine(directory, "keys", $"validator-{id}.json");
        var configPath = Path.Combine(directory, $"node-{id}.json");
        var (_, address) = NewKeystore(keyPath, genesis.Crypto.Suite);
        var joined = siblings[0].Config.DeepClone().AsObject();
        joined["nodeId"] = id;
        joined["region"] = region;
        joined["validatorKey"] = new JsonObject
        {
            ["keystore"] = new JsonObject { ["path"] = $"keys/validator-{id}.json", ["password"] = new JsonObject { ["file"] = "keys/password" } },
        };
        joined["validatorAddress"] = address.ToString();
        joined["listen"] = listen;
        joined["peers"] = peers;
        if (joined["storage"] is JsonObject storage)
        {
            if ((string?)storage["kind"] == StorageConfig.Postgres)
            {
                storage["schema"] = $"node_{lower}_{n}";
            }
            else
            {
                storage["dataDirectory"] = $"data/{id}";
            }
        }

        joined.Remove("httpListen");
        joined.Remove("metrics");
        if (joined["consensus"] is JsonObject consensus)
        {
            consensus.Remove("journal");
        }

        await WriteNewAsync(configPath, joined.ToJsonString(Indented) + "\n", owner: false, cancellationToken).ConfigureAwait(false);
        return new JoinedValidator(region, $"validator-{id}", address, keyPath, configPath, listen, new(address.ToString(), listen), [.. siblings.Select(s => s.Path)]);
    }

    /// <summary>The API's reading members: key file, name and role (members 5, 6 and 7 of the setup).</summary>
    private static readonly (string File, string Name, string Role)[] ApiReaders =
    [
        ("member-bureau.json", "Jingjinji Credit Reference Co., Ltd.", "CreditBureau"),
        ("member-bank.json", "Capital Commercial Bank", "Bank"),
        ("member-regulator.json", "Beijing-Tianjin-Hebei Credit Supervision Office", "Regulator"),
    ];

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static JsonObject Member(Address address, string uscc, string name, string region, string[] roles) => new()
    {
        ["address"] = address.ToString(),
        ["uscc"] = uscc,
        ["name"] = name,
        ["region"] = region,
        ["roles"] = new JsonArray([.. roles.Select(r => (JsonNode)r)]),
    };

    /// <summary>A valid GB 32100 code of a state organ (1, 1) registered in <paramref name="division"/>.</summary>
    private static string Uscc(string division, int sequence)
    {
        var first17 = string.Create(CultureInfo.InvariantCulture, $"11{division}MB{sequence:D7}");
        return first17 + UnifiedSocialCreditCode.CheckCharacter(first17);
    }

    /// <summary>A fresh key in a new keystore under the development password (light scrypt), never overwriting.</summary>
    private static (string Path, Address Address) NewKeystore(string path, CryptoSuiteId suite)
    {
        var password = System.Text.Encoding.UTF8.GetBytes(DevelopmentKeystores.Password);
        using var key = KeyMaterial.Generate(suite);
        try
        {
            KeystoreFile.Write(path, key, password, ScryptParameters.Light);
        }
        catch (KeySourceException e)
        {
            throw new NodeConfigurationException(e.Message);
        }

        return (path, key.Address);
    }

    private static async Task WriteNewAsync(string path, string text, bool owner, CancellationToken cancellationToken)
    {
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (owner && !OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            var stream = new FileStream(path, options);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeConfigurationException($"cannot create '{path}' (init never overwrites a file): {e.Message}");
        }
    }
}
