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

    /// <summary>Other nodes to compare with, by their gRPC address (<c>http://host:port</c>), read through their AuditService.GetCertifiedHeader.</summary>
    public IList<PeerEndpoint> Peers { get; set; } = [];

    /// <summary>
    /// The member key the calls to <see cref="Peers"/> are signed with (the operator's member of this region: any member
    /// may read certified headers); required when peers are configured. Same shape as the node's <c>validatorKey</c>.
    /// </summary>
    public SmartCity.Ledger.Keys.KeySourceOptions? MemberKey { get; set; }

    /// <summary>How long one call to a peer may take before the peer counts as unavailable for this run.</summary>
    public TimeSpan PeerCallTimeout { get; set; } = TimeSpan.FromSeconds(10);

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

        if (Enabled && Peers.Count > 0 && MemberKey is null)
        {
            yield return $"jobs.{name}.memberKey: needed to sign the calls to the peers (a member key of this region, like validatorKey)";
        }

        if (MemberKey?.Validate() is { } keyProblem)
        {
            yield return $"jobs.{name}.memberKey: {keyProblem.Message}";
        }

        if (PeerCallTimeout < TimeSpan.FromMilliseconds(100) || PeerCallTimeout > TimeSpan.FromMinutes(5))
        {
            yield return $"jobs.{name}.peerCallTimeout: must be between 00:00:00.1 and 00:05:00, got {PeerCallTimeout}";
        }
    }
}

/// <summary><c>jobs.creditLifecycle</c>: overdue objections, publication periods ending and ended, repair becoming possible.</summary>
public sealed class CreditLifecycleJobOptions : JobScheduleOptions
{
    public CreditLifecycleJobOptions() => Interval = TimeSpan.FromHours(1);

    /// <summary>How long before a publication period ends its <c>publication-ending</c> notification is written (0 to 366 days).</summary>
    public TimeSpan NoticePeriod { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Blocks read per run at most for new subjects (the rest on the next runs).</summary>
    public long MaxBlocksPerRun { get; set; } = 100_000;

    public override IEnumerable<string> Validate(string name)
    {
        foreach (var error in base.Validate(name))
        {
            yield return error;
        }

        if (NoticePeriod < TimeSpan.Zero || NoticePeriod > TimeSpan.FromDays(366))
        {
            yield return $"jobs.{name}.noticePeriod: must be between 00:00:00 and 366.00:00:00, got {NoticePeriod}";
        }

        if (MaxBlocksPerRun < 1)
        {
            yield return $"jobs.{name}.maxBlocksPerRun: must be at least 1";
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

    public CreditLifecycleJobOptions CreditLifecycle { get; set; } = new();

    /// <summary>Checkpoint anchoring on an EVM chain; none: not run (docs/anchoring.md, "The AnchorJob").</summary>
    public Anchor.AnchorJobOptions? Anchor { get; set; }

    public IReadOnlyList<string> Validate() => [.. ChainAudit.Validate("chainAudit"), .. Reconciliation.Validate("reconciliation"), .. CreditLifecycle.Validate("creditLifecycle"), .. Anchor?.Validate("anchor") ?? []];
}
