using System.Text.RegularExpressions;
using SmartCity.Ledger.Keys;
using SmartCity.Ledger.Node;

namespace SmartCity.CreditApi.Node;

/// <summary>
/// The node's configuration file, <c>smartcity node --config FILE</c> (JSON; see docs/node.md, "Configuration"). Bound
/// with unknown keys refused, then checked by <see cref="NodeConfigValidator"/> before anything starts, so a bad file
/// stops the node with one line naming the setting. Relative paths are relative to the file's directory.
/// </summary>
public sealed class NodeConfig
{
    /// <summary>The node's name in Status and logs; default: the region in lower case and <c>-1</c>.</summary>
    public string? NodeId { get; set; }

    /// <summary>The region this node validates for; one of the genesis regions.</summary>
    public string Region { get; set; } = string.Empty;

    /// <summary>The genesis file.</summary>
    public string Genesis { get; set; } = string.Empty;

    /// <summary>
    /// Where this node's validator key comes from (the keys issue's <see cref="KeySourceOptions"/>: an encrypted
    /// keystore with its password from a file, an environment variable or a prompt; a PKCS#11 token; a clear-text file
    /// only with <c>insecurePlaintext</c>); none: a node that serves reads and seals nothing.
    /// </summary>
    public KeySourceOptions? ValidatorKey { get; set; }

    /// <summary>
    /// The address <see cref="ValidatorKey"/> must have, for a validator that is not in the genesis (one voted in by
    /// governance, docs/consensus.md "Adding and removing a validator"); none: the genesis validator of <see cref="Region"/>.
    /// </summary>
    public string? ValidatorAddress { get; set; }

    public StorageConfig Storage { get; set; } = new();

    /// <summary>IP address and port of the gRPC listener, e.g. <c>127.0.0.1:50051</c> (port 0: chosen by the OS).</summary>
    public string Listen { get; set; } = "127.0.0.1:50051";

    /// <summary>
    /// IP address and port of a second listener for HTTP/1.1 clients of the credit API's JSON gateway (curl, a bank's
    /// HTTP client), e.g. <c>127.0.0.1:8080</c>; none: JSON only over HTTP/2 on <see cref="Listen"/>. Same services and
    /// authentication; with <see cref="Tls"/> it also speaks HTTP/2 (ALPN) under the same certificate.
    /// </summary>
    public string? HttpListen { get; set; }

    /// <summary>TLS for the listener; none: cleartext HTTP/2 (h2c), meant for loopback.</summary>
    public TlsConfig? Tls { get; set; }

    /// <summary>Largest gRPC request message accepted, in bytes.</summary>
    public int MaxMessageBytes { get; set; } = 4 * 1024 * 1024;

    public RetentionConfig Retention { get; set; } = new();

    /// <summary>The chain's in-memory caches, in MiB and entries (docs/node.md, "Memory").</summary>
    public MemoryConfig Memory { get; set; } = new();

    /// <summary>The chain's options: <see cref="Retention"/> and <see cref="Memory"/>.</summary>
    public LedgerChainOptions ToChainOptions() => (Memory ?? new MemoryConfig()).ApplyTo((Retention ?? new RetentionConfig()).ToChainOptions());

    /// <summary>The memory budget the node process keeps (<c>memory.limitMiB</c>); null when it is off.</summary>
    public MemoryBudget? ToMemoryBudget() => (Memory ?? new MemoryConfig()).ToBudget();

    /// <summary>The gRPC listener's limits: connections, streams, timeouts, header size, Watch subscribers (docs/node.md, "Server limits").</summary>
    public ServerLimits Server { get; set; } = new();

    /// <summary>The runtime's limits (mempool, nonce gap, caches); see <see cref="LedgerNodeOptions"/>.</summary>
    public LedgerNodeOptions Limits { get; set; } = new();

    /// <summary>
    /// The other validators this node dials, each keyed by a genesis region (<c>"TJ"</c>: that region's genesis
    /// validator) or by a validator's address (<c>"0x…"</c>: any validator, e.g. one voted in since genesis), valued by
    /// where it listens (<c>127.0.0.1:50052</c> or <c>http://host:port</c>, <c>https://…</c> for TLS). A node dials, and
    /// accepts a link from, only a member of the validator set in force at its head, so an entry may name a validator
    /// before it is voted in or after it is voted out. A chain of four or more validators runs QBFT over these links
    /// (docs/consensus.md, "Peer network"); none: the node does not take part in consensus.
    /// </summary>
    public Dictionary<string, string> Peers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>QBFT's timers and journal (docs/consensus.md).</summary>
    public ConsensusConfig Consensus { get; set; } = new();

    /// <summary>The scheduled jobs: chain audit, reconciliation (docs/jobs.md).</summary>
    public SmartCity.Ledger.Jobs.JobsOptions Jobs { get; set; } = new();

    /// <summary>The Prometheus scrape listener (HTTP/1.1, <c>/metrics</c>); none: metrics are not served.</summary>
    public MetricsConfig? Metrics { get; set; }

    /// <summary>How the node writes its log to stderr (docs/jobs.md, "Logs").</summary>
    public LoggingConfig? Logging { get; set; }
}

/// <summary>The node's console log.</summary>
public sealed class LoggingConfig
{
    /// <summary>
    /// <c>simple</c> (default: one human-readable line per event) or <c>json</c> (one JSON object per line: UTC
    /// timestamp, event id, level, category, message and the event's named values, for a log shipper).
    /// </summary>
    public string Format { get; set; } = "simple";

    /// <summary>Whether <see cref="Format"/> asks for JSON lines.</summary>
    public bool IsJson => string.Equals(Format, "json", StringComparison.Ordinal);
}

/// <summary>Where <c>/metrics</c> is served (Prometheus text format, HTTP/1.1, no authentication: bind it to a management network).</summary>
public sealed class MetricsConfig
{
    /// <summary>IP address and port, e.g. <c>127.0.0.1:9464</c> (port 0: chosen by the OS).</summary>
    public string Listen { get; set; } = "127.0.0.1:9464";
}

/// <summary>QBFT settings of a validator of a multi-validator chain.</summary>
public sealed class ConsensusConfig
{
    /// <summary>Timeout of round 0 (round r waits base · 2^r, capped); default 2 s.</summary>
    public TimeSpan BaseRoundTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest any round waits; default 30 s.</summary>
    public TimeSpan MaxRoundTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Round 0 of a height starts no earlier than the parent's time plus this; default 0.</summary>
    public TimeSpan BlockPeriod { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// The file where the validator keeps what it signed (the consensus journal, fsynced before any vote leaves);
    /// default: beside the embedded store's data directory (<c>DIR.qbft-journal</c>), or <c>qbft-REGION.journal</c>
    /// beside the config file with PostgreSQL. Never share it between nodes, never delete it while the node may vote.
    /// </summary>
    public string? Journal { get; set; }

    public SmartCity.Ledger.Consensus.QbftParameters ToParameters() => new()
    {
        BaseRoundTimeout = BaseRoundTimeout,
        MaxRoundTimeout = MaxRoundTimeout,
        BlockPeriod = BlockPeriod,
    };
}

/// <summary>Where the node keeps its ledger.</summary>
public sealed partial class StorageConfig
{
    public const string Embedded = "embedded";
    public const string Postgres = "postgres";

    /// <summary><c>embedded</c> (a data directory, the default) or <c>postgres</c>.</summary>
    public string Kind { get; set; } = Embedded;

    /// <summary>The embedded store's data directory.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The PostgreSQL connection string (Npgsql form); its search path is replaced by <see cref="Schema"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The node's own PostgreSQL schema.</summary>
    public string Schema { get; set; } = "ledger";

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    internal static partial Regex SchemaName();
}

/// <summary>How much history of the state the node keeps.</summary>
public sealed class RetentionConfig
{
    /// <summary>
    /// Keep state versions of the last N blocks for proofs at past heights; 0 keeps every version. Certified headers,
    /// transactions and the history tree are never pruned. A state proof asked below the kept window is refused with
    /// <c>StatePruned</c> (FAILED_PRECONDITION), never answered wrongly.
    /// </summary>
    public int StateVersions { get; set; }

    /// <summary>
    /// The retention floor moves in steps of this many blocks, so pruning runs once per step (default 16); the node
    /// keeps between <see cref="StateVersions"/> and <see cref="StateVersions"/> + this − 1 versions.
    /// </summary>
    public int PruneEveryBlocks { get; set; } = 16;

    /// <summary>The chain's options for these settings.</summary>
    public LedgerChainOptions ToChainOptions() => new()
    {
        StateRetentionBlocks = StateVersions > 0 ? StateVersions : null,
        PruneEveryBlocks = PruneEveryBlocks,
    };
}

/// <summary>
/// The bounds of the chain's in-memory caches (<see cref="LedgerChainOptions"/>); the store holds everything they hold,
/// so smaller bounds cost reads from the store, never correctness. Their sum, and the runtime's own, is what a node
/// takes beyond its store's indexes (docs/node.md, "Memory").
/// </summary>
public sealed class MemoryConfig
{
    /// <summary>The largest cache bound accepted, in MiB (64 GiB): beyond it a typing error, not a plan.</summary>
    public const int MaxCacheMiB = 65_536;

    /// <summary>The state-tree node cache (pages, leaves and the values they keep alive), in MiB.</summary>
    public int StateNodeCacheMiB { get; set; } = (int)(LedgerChainOptions.Default.StateNodeCacheBytes >> 20);

    /// <summary>The head state cache (the values the next block reads), in MiB of values.</summary>
    public int HeadStateCacheMiB { get; set; } = (int)(LedgerChainOptions.Default.HeadStateCacheBytes >> 20);

    /// <summary>The head state cache, in values.</summary>
    public int HeadStateCacheEntries { get; set; } = LedgerChainOptions.Default.HeadStateCacheEntries;

    /// <summary>The history-tree node hashes kept for proofs, in entries.</summary>
    public int HistoryNodeCacheEntries { get; set; } = LedgerChainOptions.Default.HistoryNodeCacheEntries;

    /// <summary>The least budget accepted, in MiB: below it the caches' defaults alone do not fit.</summary>
    public const int MinLimitMiB = 256;

    /// <summary>
    /// The resident memory the node process stays within, in MiB (<see cref="MemoryGovernor"/>): past thirteen sixteenths
    /// of it a full compacting collection returns the collector's free memory to the system, and when what is live after
    /// one passes five eighths the caches above get a smaller share of their bounds (<see cref="MemoryBudget"/>). 0 turns
    /// it off (the collector alone decides, the caches keep their bounds): docs/node.md, "Memory".
    /// </summary>
    public int LimitMiB { get; set; } = 1024;

    /// <summary>The budget <see cref="LimitMiB"/> sets; null when it is off.</summary>
    public MemoryBudget? ToBudget() => LimitMiB == 0 ? null : new MemoryBudget((long)LimitMiB << 20);

    /// <summary><paramref name="options"/> with these bounds.</summary>
    public LedgerChainOptions ApplyTo(LedgerChainOptions options) => options with
    {
        StateNodeCacheBytes = (long)StateNodeCacheMiB << 20,
        HeadStateCacheBytes = (long)HeadStateCacheMiB << 20,
        HeadStateCacheEntries = HeadStateCacheEntries,
        HistoryNodeCacheEntries = HistoryNodeCacheEntries,
    };

    /// <summary>Every problem with these settings, one line each, named as in the file.</summary>
    public IEnumerable<string> Validate()
    {
        if (StateNodeCacheMiB is < 1 or > MaxCacheMiB)
        {
            yield return $"memory.stateNodeCacheMiB must be between 1 and {MaxCacheMiB} (64 GiB), got {StateNodeCacheMiB}";
        }

        if (HeadStateCacheMiB is < 1 or > MaxCacheMiB)
        {
            yield return $"memory.headStateCacheMiB must be between 1 and {MaxCacheMiB} (64 GiB), got {HeadStateCacheMiB}";
        }

        if (HeadStateCacheEntries < 1024)
        {
            yield return $"memory.headStateCacheEntries must be at least 1024, got {HeadStateCacheEntries}";
        }

        if (HistoryNodeCacheEntries < 1024)
        {
            yield return $"memory.historyNodeCacheEntries must be at least 1024, got {HistoryNodeCacheEntries}";
        }

        if (LimitMiB != 0 && LimitMiB is < MinLimitMiB or > MaxCacheMiB)
        {
            yield return $"memory.limitMiB must be 0 (off) or between {MinLimitMiB} and {MaxCacheMiB} (64 GiB), got {LimitMiB}";
        }
    }
}

/// <summary>The listener's certificate: PEM with a PEM key, or PKCS#12 alone (password from <c>SMARTCITY_TLS_PASSWORD</c>).</summary>
public sealed class TlsConfig
{
    public string? Certificate { get; set; }

    public string? Key { get; set; }
}
