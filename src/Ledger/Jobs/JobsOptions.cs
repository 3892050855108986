namespace SmartCity.Ledger.Jobs;

/// <summary>A job's schedule: every <see cref="Interval"/>, or by a Quartz <see cref="Cron"/> expression (seconds first, UTC).</summary>
public class JobScheduleOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Time between runs (the first run one interval after the node starts); ignored when <see cref="Cron"/> is set.</summary>
    public TimeSpan Interval { get; set; }

    /// <summary>A Quartz cron expression, e.g. <c>0 0 2 * * ?</c> (02:00 UTC every day).</summary>
    public string? Cron { get; set; }

    /// <summary>The reasons this schedule is unusable (empty when valid).</summary>
    public virtual IEnumerable<string> Validate(string name)
    {
        if (!Enabled)
        {
            yield break;
        }

        if (Cron is { } cron)
        {
            if (!Quartz.CronExpression.TryParse(cron, out _))
            {
                yield return $"jobs.{name}.cron: '{cron}' is not a Quartz cron expression (seconds minutes hours day-of-month month day-of-week)";
            }
        }
        else if (Interval < TimeSpan.FromSeconds(1) || Interval > TimeSpan.FromDays(7))
        {
            yield return $"jobs.{name}.interval: must be between 00:00:01 and 7.00:00:00, got {Interval}";
        }
    }
}

/// <summary><c>jobs.chainAudit</c>: the continuous re-verification of this node's store.</summary>
public sealed class ChainAuditJobOptions : JobScheduleOptions
{
    public ChainAuditJobOptions() => Interval = TimeSpan.FromMinutes(10);

    /// <summary>Blocks checked per run at most (the rest on the next runs), so one run stays bounded.</summary>
    public long MaxBlocksPerRun { get; set; } = 100_000;

    public override IEnumerable<string> Validate(string name)
        => base.Validate(name).Concat(MaxBlocksPerRun < 1 ? [$"jobs.{name}.maxBlocksPerRun: must be at least 1"] : []);
}

/// <summary><c>jobs.reconciliation</c>: this node against its peers and its projections against its state tree.</summary>
public sealed class ReconciliationJobOptions : JobScheduleOptions
{
    public ReconciliationJobOptions() => Interval = TimeSpan.FromMinutes(15);

    /// <summary>Heights compared per peer per run at most.</summary>
    public long MaxHeightsPerPeer { get; set; } = 10_000;

    /// <summary>Also compare the query projections with the state tree (reads every stored block's transactions).</summary>
    public bool Projections { get; set; } = true;

    /// <summary>Other nodes to compare with, by their gRPC address (<c>http://host:port</c>), read through NodeService.</summary>
    public IList<PeerEndpoint> Peers { get; set; } = [];

    public override IEnumerable<string> Validate(string name)
    {
        foreach (var error in base.Validate(name))
        {
            yield return error;
        }

        if (MaxHeightsPerPeer < 1)
        {
            yield return $"jobs.{name}.maxHeightsPerPeer: must be at least 1";
        }

        for (var i = 0; i < Peers.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(Peers[i].Name) || !Uri.TryCreate(Peers[i].Address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                yield return $"jobs.{name}.peers[{i}]: needs a name and an http:// or https:// address";
            }
        }
    }
}

/// <summary>A peer node to reconcile with.</summary>
public sealed class PeerEndpoint
{
    public string Name { get; set; } = string.Empty;

    public string Address { get; set; } = string.Empty;
}

/// <summary>The schedules of every job (<c>jobs</c> in the node configuration; docs/jobs.md).</summary>
public sealed class JobsOptions
{
    public ChainAuditJobOptions ChainAudit { get; set; } = new();

    public ReconciliationJobOptions Reconciliation { get; set; } = new();

    /// <summary>Checkpoint anchoring on an EVM chain; none: not run (docs/anchoring.md, "The AnchorJob").</summary>
    public Anchor.AnchorJobOptions? Anchor { get; set; }

    public IReadOnlyList<string> Validate() => [.. ChainAudit.Validate("chainAudit"), .. Reconciliation.Validate("reconciliation"), .. Anchor?.Validate("anchor") ?? []];
}
