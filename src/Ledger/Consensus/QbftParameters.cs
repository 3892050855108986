namespace SmartCity.Ledger.Consensus;

/// <summary>
/// The knobs of the QBFT engine, validated before an engine starts (<see cref="Validate"/>). Every buffer the engine
/// keeps is bounded by one of them, so a Byzantine validator cannot grow a node's memory (CONSENSUS-NOTES §7.6).
/// </summary>
public sealed record QbftParameters
{
    /// <summary>Timeout of round 0; round r waits <c>base · 2^r</c>, capped at <see cref="MaxRoundTimeout"/>.</summary>
    public TimeSpan BaseRoundTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest a round waits, however high it is: a stalled chain recovers in minutes, not hours (Besu #7642).</summary>
    public TimeSpan MaxRoundTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Round 0 of height h starts no earlier than the parent's timestamp plus this (0: as soon as the parent commits).</summary>
    public TimeSpan BlockPeriod { get; init; } = TimeSpan.Zero;

    /// <summary>The highest round any message may name; a node's own round stops growing here.</summary>
    public int MaxRound { get; init; } = 100_000;

    /// <summary>PREPAREs and COMMITs for rounds up to this many above the current round are kept until the node gets there.</summary>
    public int FutureRoundWindow { get; init; } = 10;

    /// <summary>COMMITs for this many rounds below the current one still count, so a late commit quorum still decides.</summary>
    public int RetainedPastRounds { get; init; } = 4;

    /// <summary>Messages for up to this many heights above the current one are buffered (Besu: 10).</summary>
    public int FutureHeightWindow { get; init; } = 10;

    /// <summary>At most this many future-height messages are buffered in all (Besu: 1,000), split evenly by sender.</summary>
    public int MaxFutureMessages { get; init; } = 1_000;

    /// <summary>ROUND-CHANGEs kept per sender: the highest rounds it announced at or above the current round.</summary>
    public int MaxRoundChangesPerSender { get; init; } = 4;

    /// <summary>The timeout of <paramref name="round"/>: <c>base · 2^round</c>, capped.</summary>
    public TimeSpan RoundTimeout(int round)
    {
        var exponent = Math.Clamp(round, 0, 40);
        var ticks = BaseRoundTimeout.Ticks * Math.Pow(2, exponent);
        return ticks >= MaxRoundTimeout.Ticks ? MaxRoundTimeout : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>Null when the parameters make sense, else the first problem in one line.</summary>
    public string? Validate()
    {
        if (BaseRoundTimeout <= TimeSpan.Zero)
        {
            return "BaseRoundTimeout must be positive";
        }

        if (MaxRoundTimeout < BaseRoundTimeout)
        {
            return "MaxRoundTimeout must be at least BaseRoundTimeout";
        }

        if (BlockPeriod < TimeSpan.Zero)
        {
            return "BlockPeriod must not be negative";
        }

        if (MaxRound < 1)
        {
            return "MaxRound must be at least 1";
        }

        if (FutureRoundWindow < 1 || RetainedPastRounds < 0 || FutureHeightWindow < 1 || MaxRoundChangesPerSender < 1)
        {
            return "FutureRoundWindow, FutureHeightWindow and MaxRoundChangesPerSender must be at least 1, RetainedPastRounds at least 0";
        }

        return MaxFutureMessages < 1 ? "MaxFutureMessages must be at least 1" : null;
    }
}
