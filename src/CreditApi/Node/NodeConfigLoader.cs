using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Keys;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;

namespace SmartCity.CreditApi.Node;

/// <summary>
/// Everything a node starts from, read and checked: the configuration, the genesis, the validator key (opened through
/// the keys issue's <see cref="KeySource"/>). The startup owns the opened key: dispose it after the node stopped (the
/// key is zeroed, a token session closed).
/// </summary>
public sealed record NodeStartup(
    NodeConfig Config,
    string ConfigDirectory,
    GenesisDocument Genesis,
    string GenesisPath,
    KeySigner? Signer,
    IPEndPoint Listen,
    EmbeddedStoreOptions? Embedded,
    PostgresStoreOptions? Postgres) : IDisposable
{
    /// <summary>The validators this node dials: region, address from the genesis, and where each listens.</summary>
    public IReadOnlyList<(string Region, Address Validator, Uri Address)> Peers { get; init; } = [];

    /// <summary>The member key reconciliation signs its calls to the peers with (<c>jobs.reconciliation.memberKey</c>).</summary>
    public KeySigner? ReconciliationSigner { get; init; }
    /// <summary>The AnchorJob's paying account (<c>jobs.anchor.submitterKey</c>), opened at start-up; null when anchoring is off.</summary>
    public KeySigner? AnchorSubmitter { get; init; }

    /// <summary>Where the consensus journal lives (see <see cref="ConsensusConfig.Journal"/>).</summary>
    public string JournalPath { get; init; } = string.Empty;

    /// <summary>Seals as the validator key, when the node has one.</summary>
    public IBlockSealer? Sealer { get; } = Signer is null ? null : new SignerBlockSealer(Signer, TrustAnchor.FromGenesis(Genesis).DomainSeparator);

    public void Dispose()
    {
        Signer?.Dispose();
        ReconciliationSigner?.Dispose();
        AnchorSubmitter?.Dispose();
    }

    public string NodeId => Config.NodeId ?? $"{Config.Region.ToLowerInvariant()}-1";

    /// <summary><c>embedded</c> or <c>postgres</c>, as Status reports it.</summary>
    public string StoreKind => Postgres is null ? StorageConfig.Embedded : StorageConfig.Postgres;
}

/// <summary>
/// Reads <c>--config FILE</c>: JSON bound to <see cref="NodeConfig"/> with unknown keys refused, validated by
/// <see cref="NodeConfigValidator"/>, then the genesis and the validator key loaded and checked against each other.
/// Every problem is a <see cref="NodeConfigurationException"/> with one line that names the setting.
/// </summary>
public static partial class NodeConfigLoader
{
    /// <param name="path">The configuration file.</param>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <param name="prompt">Asks for a keystore password or PIN configured as <c>prompt: true</c>; none: such a key cannot be opened.</param>
    /// <param name="logger">Receives the keys issue's events (which key signs; a clear-text key's warning).</param>
    public static async Task<NodeStartup> LoadAsync(string path, CancellationToken cancellationToken, ISecretPrompt? prompt = null, ILogger? logger = null)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new NodeConfigurationException($"config '{path}' does not exist");
        }

        // The configuration binder would read invalid UTF-8 as U+FFFD: refuse it, as every JSON input of the tool.
        try
        {
            if (!System.Text.Unicode.Utf8.IsValid(await File.ReadAllBytesAsync(full, cancellationToken).ConfigureAwait(false)))
            {
                throw new NodeConfigurationException($"config '{path}' is not UTF-8 text");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeConfigurationException($"config '{path}' cannot be read: {OneLine(e)}");
        }

        NodeConfig config;
        try
        {
            var root = new ConfigurationBuilder().AddJsonFile(full, optional: false, reloadOnChange: false).Build();
            config = root.Get<NodeConfig>(binder => binder.ErrorOnUnknownConfiguration = true) ?? new NodeConfig();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or InvalidOperationException or IOException or JsonException)
        {
            throw new NodeConfigurationException($"config '{path}': {OneLine(e)}");
        }

        var verdict = new NodeConfigValidator().Validate(null, config);
        if (verdict.Failed)
        {
            throw new NodeConfigurationException($"config '{path}': {verdict.Failures.First()}");
        }

        var directory = Path.GetDirectoryName(full)!;
        string Resolve(string relative) => Path.GetFullPath(relative, directory);

        var genesisPath = Resolve(config.Genesis);
        var genesisText = await ReadAsync("genesis", genesisPath, cancellationToken).ConfigureAwait(false);
        var loaded = GenesisLoader.Load(genesisText);
        if (!loaded.IsValid)
        {
            throw new NodeConfigurationException($"genesis '{genesisPath}': {loaded.Errors[0]}");
        }

        var genesis = loaded.Document!;
        if (!genesis.Regions.Any(r => r.Code == config.Region))
        {
            throw new NodeConfigurationException($"region '{config.Region}' is not a region of the genesis ({string.Join(", ", genesis.Regions.Select(r => r.Code))})");
        }

        var ownAddress = ValidatorAddress(config, genesis);
        var peers = Peers(config, genesis, ownAddress);
        var signer = config.ValidatorKey is { } keySource ? OpenValidatorKey(keySource, genesis, config.Region, ownAddress, Resolve, prompt, logger) : null;
        KeySigner? reconciliationSigner = null;
        KeySigner? anchorSubmitter = null;
        try
        {
            reconciliationSigner = config.Jobs?.Reconciliation is { Enabled: true, Peers.Count: > 0, MemberKey: { } memberKey } ? OpenMemberKey(memberKey, genesis, Resolve, prompt, logger) : null;
            anchorSubmitter = OpenAnchorSubmitter(config.Jobs?.Anchor, genesis, Resolve, prompt, logger);
        }
        catch
        {
            signer?.Dispose();
            reconciliationSigner?.Dispose();
            throw;
        }

        var listen = IPEndPoint.Parse(config.Listen);
        var storage = config.Storage;
        var journal = config.Consensus?.Journal is { } configured && !string.IsNullOrWhiteSpace(configured) ? Resolve(configured)
            : storage.Kind == StorageConfig.Postgres ? Resolve($"qbft-{config.Region.ToLowerInvariant()}.journal")
            : Resolve(storage.DataDirectory).TrimEnd(Path.DirectorySeparatorChar) + ".qbft-journal";
        return storage.Kind == StorageConfig.Postgres
            ? new NodeStartup(config, directory, genesis, genesisPath, signer, listen, null, new PostgresStoreOptions { ConnectionString = storage.ConnectionString!, Schema = storage.Schema }) { Peers = peers, JournalPath = journal, ReconciliationSigner = reconciliationSigner, AnchorSubmitter = anchorSubmitter }
            : new NodeStartup(config, directory, genesis, genesisPath, signer, listen, new EmbeddedStoreOptions { DataDirectory = Resolve(storage.DataDirectory) }, null) { Peers = peers, JournalPath = journal, ReconciliationSigner = reconciliationSigner, AnchorSubmitter = anchorSubmitter };
    }

    /// <summary>
    /// The address this node's validator key must have: <c>validatorAddress</c> when set (a validator voted in since
    /// genesis), else the genesis validator of the node's region (null when there is none: checked where the key opens).
    /// </summary>
    private static Address? ValidatorAddress(NodeConfig config, GenesisDocument genesis)
    {
        if (string.IsNullOrWhiteSpace(config.ValidatorAddress))
        {
            return genesis.Validators.Where(v => v.Region == config.Region).Select(v => (Address?)v.Address).FirstOrDefault();
        }

        if (config.ValidatorKey is null)
        {
            throw new NodeConfigurationException("validatorAddress: set without validatorKey (it names the address the validator key must have)");
        }

        if (!Address.TryParse(config.ValidatorAddress, out var address, out var error))
        {
            throw new NodeConfigurationException($"validatorAddress: '{config.ValidatorAddress}' is not an address: {error}");
        }

        if (genesis.Validators.FirstOrDefault(v => v.Address == address) is { } genesisValidator && genesisValidator.Region != config.Region)
        {
            throw new NodeConfigurationException($"validatorAddress: {address} is the genesis validator of region {genesisValidator.Region}, and this node's region is {config.Region}");
        }

        return address;
    }

    /// <summary>
    /// The validators this node dials (<c>peers</c>): a key is a genesis region (its genesis validator) or a validator's
    /// 0x address (any validator, also one voted in since genesis); never this node's own validator, never one twice.
    /// </summary>
    internal static List<(string, Address, Uri)> Peers(NodeConfig config, GenesisDocument genesis, Address? self)
    {
        var peers = new List<(string, Address, Uri)>();
        var named = new Dictionary<Address, string>();
        foreach (var (key, address) in config.Peers ?? [])
        {
            string label;
            Address validator;
            if (key.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                if (!Address.TryParse(key, out validator, out var error))
                {
                    throw new NodeConfigurationException($"peers.{key}: not a validator address: {error}");
                }

                label = genesis.Validators.FirstOrDefault(v => v.Address == validator) is { } known ? known.Region : validator.ToString();
            }
            else
            {
                validator = (genesis.Validators.FirstOrDefault(v => v.Region == key)
                    ?? throw new NodeConfigurationException($"peers.{key}: the genesis has no validator for region {key} (a key is a genesis region, {string.Join(", ", genesis.Validators.Select(v => v.Region))}, or a validator's 0x address)")).Address;
                label = key;
            }

            if (self is { } own && validator == own)
            {
                throw new NodeConfigurationException($"peers.{key}: a node does not dial itself ({validator} is this node's validator)");
            }

            if (!named.TryAdd(validator, key))
            {
                throw new NodeConfigurationException($"peers.{key}: names validator {validator} again (peers.{named[validator]} names it too)");
            }

            peers.Add((label, validator, PeerAddress(address)!));
        }

        return peers;
    }

    /// <summary><c>HOST:PORT</c> (cleartext HTTP/2) or an <c>http://</c> / <c>https://</c> URL; null when it is neither.</summary>
    internal static Uri? PeerAddress(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Port > 0 && uri.AbsolutePath == "/")
        {
            return uri;
        }

        return IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port > 0 && text.Contains(':', StringComparison.Ordinal)
            ? new Uri($"http://{text}")
            : null;
    }

    private static async Task<string> ReadAsync(string what, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllTextAsync(path, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.DecoderFallbackException)
        {
            throw new NodeConfigurationException($"{what} '{path}' cannot be read: {OneLine(e)}");
        }
    }

    /// <summary>
    /// Opens the validator key through <see cref="KeySource.OpenSigner"/> (the keys issue's start-up checks: one source,
    /// private files, the password or PIN, decryption or the token's self-test), with the address the genesis gives this
    /// node's region as the expected one. Paths in the source are relative to the configuration file.
    /// </summary>
    private static KeySigner OpenValidatorKey(KeySourceOptions source, GenesisDocument genesis, string region, Address? address, Func<string, string> resolve, ISecretPrompt? prompt, ILogger? logger)
    {
        var expected = address
            ?? throw new NodeConfigurationException($"validatorKey: the genesis has no validator for region {region} (validators: {string.Join(", ", genesis.Validators.Select(v => $"{v.Region} {v.Address}"))}); set validatorAddress for a validator voted in since genesis, or remove validatorKey to run a node that serves reads");
        var resolved = ResolveKeySource(source, resolve);
        try
        {
            // The key must be of the chain's suite (a gm chain's validator holds an SM2 key, signing with genesis's sm2Id).
            return KeySource.OpenSigner(resolved, expected, prompt, logger, genesis.Crypto.CreateSuite().Signatures);
        }
        catch (KeySourceException e)
        {
            throw new NodeConfigurationException($"validatorKey: {OneLine(e)}");
        }
    }

    /// <summary>
    /// Opens <c>jobs.reconciliation.memberKey</c> like the validator key (paths relative to the configuration file); it
    /// must be a member of the genesis (a member added later by governance is refused here: name it once it is in the
    /// genesis of a new deployment, or leave peers empty).
    /// </summary>
    private static KeySigner OpenMemberKey(KeySourceOptions source, GenesisDocument genesis, Func<string, string> resolve, ISecretPrompt? prompt, ILogger? logger)
    {
        KeySigner signer;
        try
        {
            signer = KeySource.OpenSigner(ResolveKeySource(source, resolve), null, prompt, logger, genesis.Crypto.CreateSuite().Signatures);
        }
        catch (KeySourceException e)
        {
            throw new NodeConfigurationException($"jobs.reconciliation.memberKey: {OneLine(e)}");
        }

        if (!genesis.Members.Any(m => m.Address == signer.Address))
        {
            signer.Dispose();
            throw new NodeConfigurationException($"jobs.reconciliation.memberKey: {signer.Address} is not a member of the genesis; the peers would refuse its calls");
        }

        return signer;
    }

    /// <summary>
    /// Opens <c>jobs.anchor.submitterKey</c> through <see cref="KeySource.OpenSigner"/> (the same start-up checks as the
    /// validator key: keystore and password, PKCS#11 token and PIN, clear text only with <c>insecurePlaintext</c>). The
    /// account is an Ethereum account (secp256k1), whatever the ledger's suite; anchoring itself is eth-only.
    /// </summary>
    private static KeySigner? OpenAnchorSubmitter(SmartCity.Ledger.Jobs.Anchor.AnchorJobOptions? anchor, GenesisDocument genesis, Func<string, string> resolve, ISecretPrompt? prompt, ILogger? logger)
    {
        if (anchor is not { Enabled: true, SubmitterKey: { } source })
        {
            return null;
        }

        if (genesis.Crypto.Suite != CryptoSuiteId.Eth)
        {
            throw new NodeConfigurationException($"jobs.anchor: anchoring on an EVM chain is eth-only (the contract checks secp256k1 seals and Keccak-256 hashes); this chain's genesis says \"crypto\": \"{genesis.Crypto.Suite.ToName()}\"");
        }

        try
        {
            return KeySource.OpenSigner(ResolveKeySource(source, resolve), expectedAddress: null, prompt, logger);
        }
        catch (KeySourceException e)
        {
            throw new NodeConfigurationException($"jobs.anchor.submitterKey: {OneLine(e)}");
        }
    }

    /// <summary>A key source with its file paths made relative to the configuration file.</summary>
    private static KeySourceOptions ResolveKeySource(KeySourceOptions source, Func<string, string> resolve)
    {
        return new KeySourceOptions
        {
            InsecurePlaintext = source.InsecurePlaintext,
            Keystore = source.Keystore is { } k ? new KeystoreKeyOptions { Path = Resolved(k.Path), Password = ResolvedSecret(k.Password) } : null,
            Plaintext = source.Plaintext is { } p ? new PlaintextKeyOptions { Path = Resolved(p.Path) } : null,
            Pkcs11 = source.Pkcs11 is { } h ? new Pkcs11KeyOptions { Module = h.Module, Slot = h.Slot, TokenLabel = h.TokenLabel, KeyLabel = h.KeyLabel, Pin = ResolvedSecret(h.Pin) } : null,
        };

        string Resolved(string file) => string.IsNullOrWhiteSpace(file) ? file : resolve(file);

        SecretSourceOptions ResolvedSecret(SecretSourceOptions secret) => new()
        {
            File = secret.File is { } f && !string.IsNullOrWhiteSpace(f) ? resolve(f) : secret.File,
            Environment = secret.Environment,
            Prompt = secret.Prompt,
        };
    }

    /// <summary>One line; configuration paths (<c>Limits:MaxNonceGap</c>) written as in the file (<c>limits.maxNonceGap</c>).</summary>
    private static string OneLine(Exception e)
    {
        var message = e.InnerException is { } inner && e is InvalidDataException ? $"{e.Message} {inner.Message}" : e.Message;
        message = ConfigurationPath().Replace(message, m => "'" + string.Join('.', m.Groups[1].Value.Split(':').Select(p => char.ToLowerInvariant(p[0]) + p[1..])) + "'");
        return message.ReplaceLineEndings(" ").Trim();
    }

    [System.Text.RegularExpressions.GeneratedRegex("'([A-Za-z][A-Za-z0-9]*(?::[A-Za-z][A-Za-z0-9]*)+)'")]
    private static partial System.Text.RegularExpressions.Regex ConfigurationPath();
}

/// <summary>The checks of a <see cref="NodeConfig"/> that need no file: every failure names its setting.</summary>
public sealed class NodeConfigValidator : IValidateOptions<NodeConfig>
{
    public ValidateOptionsResult Validate(string? name, NodeConfig options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Region))
        {
            failures.Add("region is required (the region this node validates for, e.g. \"BJ\")");
        }

        if (string.IsNullOrWhiteSpace(options.Genesis))
        {
            failures.Add("genesis is required (the path of the genesis file)");
        }

        if (options.NodeId is { } id && string.IsNullOrWhiteSpace(id))
        {
            failures.Add("nodeId must not be blank");
        }

        if (!IPEndPoint.TryParse(options.Listen ?? string.Empty, out _) || !(options.Listen ?? string.Empty).Contains(':', StringComparison.Ordinal))
        {
            failures.Add($"listen must be HOST:PORT with an IP address, e.g. 127.0.0.1:50051, got '{options.Listen}'");
        }

        if (options.HttpListen is { } http)
        {
            if (!IPEndPoint.TryParse(http, out var httpEndPoint) || !http.Contains(':', StringComparison.Ordinal))
            {
                failures.Add($"httpListen must be HOST:PORT with an IP address, e.g. 127.0.0.1:8080, got '{http}'");
            }
            else if (httpEndPoint.Port != 0 && IPEndPoint.TryParse(options.Listen ?? string.Empty, out var grpc) && grpc.Port == httpEndPoint.Port
                && (grpc.Address.Equals(httpEndPoint.Address) || grpc.Address.Equals(IPAddress.Any) || httpEndPoint.Address.Equals(IPAddress.Any)))
            {
                failures.Add($"httpListen {http} is the gRPC listener's address ({options.Listen}): give the HTTP/1.1 gateway its own port");
            }
        }

        if (options.MaxMessageBytes is <= 0 or > ServerLimits.MaxMessageBytesCeiling)
        {
            failures.Add($"maxMessageBytes must be between 1 and {ServerLimits.MaxMessageBytesCeiling} (64 MiB), got {options.MaxMessageBytes}");
        }

        failures.AddRange((options.Server ?? new ServerLimits()).Validate());

        if (options.ValidatorKey?.Validate() is { } keyProblem)
        {
            failures.Add($"validatorKey: {keyProblem.Message}");
        }

        if (options.Tls is { Certificate: null or "" })
        {
            failures.Add("tls needs a certificate");
        }

        var storage = options.Storage ?? new StorageConfig();
        switch (storage.Kind)
        {
            case StorageConfig.Embedded when string.IsNullOrWhiteSpace(storage.DataDirectory):
                failures.Add("storage.dataDirectory must name a directory");
                break;
            case StorageConfig.Embedded:
                break;
            case StorageConfig.Postgres when string.IsNullOrWhiteSpace(storage.ConnectionString):
                failures.Add("storage.connectionString is required when storage.kind is postgres");
                break;
            case StorageConfig.Postgres when !StorageConfig.SchemaName().IsMatch(storage.Schema ?? string.Empty):
                failures.Add($"storage.schema '{storage.Schema}' must be lower-case letters, digits and underscores (at most 63)");
                break;
            case StorageConfig.Postgres:
                break;
            default:
                failures.Add($"storage.kind must be '{StorageConfig.Embedded}' or '{StorageConfig.Postgres}', got '{storage.Kind}'");
                break;
        }

        if (options.Retention is { StateVersions: < 0 } retention)
        {
            failures.Add($"retention.stateVersions must be 0 (keep every version) or positive, got {retention.StateVersions}");
        }

        if (options.Retention is { PruneEveryBlocks: < 1 } step)
        {
            failures.Add($"retention.pruneEveryBlocks must be at least 1, got {step.PruneEveryBlocks}");
        }

        failures.AddRange((options.Memory ?? new MemoryConfig()).Validate());
        failures.AddRange((options.Limits ?? new LedgerNodeOptions()).Validate().Select(e => "limits." + char.ToLowerInvariant(e[0]) + e[1..]));
        foreach (var (region, address) in options.Peers ?? [])
        {
            if (NodeConfigLoader.PeerAddress(address) is null)
            {
                failures.Add($"peers.{region} must be HOST:PORT with an IP address and a port, or an http:// or https:// URL, got '{address}'");
            }
        }

        if ((options.Consensus ?? new ConsensusConfig()).ToParameters().Validate() is { } consensus)
        {
            failures.Add($"consensus: {consensus}");
        }

        failures.AddRange((options.Jobs ?? new SmartCity.Ledger.Jobs.JobsOptions()).Validate());
        if (options.Metrics is { } metrics && (!IPEndPoint.TryParse(metrics.Listen ?? string.Empty, out _) || !(metrics.Listen ?? string.Empty).Contains(':', StringComparison.Ordinal)))
        {
            failures.Add($"metrics.listen must be HOST:PORT with an IP address, e.g. 127.0.0.1:9464, got '{metrics.Listen}'");
        }

        if (options.Logging is { } logging && logging.Format is not ("simple" or "json"))
        {
            failures.Add($"logging.format must be simple or json, got '{logging.Format}'");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
