using SmartCity.Ledger.Consensus;

namespace SmartCity.Ledger.Node.Consensus;

/// <summary>
/// The consensus journal in one file beside the node's store (docs/consensus.md, "What the node must persist"): each
/// save writes a temporary file, flushes it to the disk (fsync) and renames it over the journal, so a crash leaves
/// either the old state or the new one, never a torn one. A journal that cannot be read stops the node: guessing what
/// it signed could make it vote twice.
/// </summary>
public sealed class FileConsensusJournal(string path) : IConsensusJournal
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public async ValueTask SaveAsync(ConsensusJournalState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        var bytes = ConsensusCodec.EncodeJournal(state);
        var temporary = Path + ".tmp";
        var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4_096, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, Path, overwrite: true);
    }

    public async ValueTask<ConsensusJournalState?> LoadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        var bytes = await File.ReadAllBytesAsync(Path, cancellationToken).ConfigureAwait(false);
        return ConsensusCodec.TryDecodeJournal(bytes, out var state, out var error)
            ? state
            : throw new InvalidDataException($"the consensus journal {Path} cannot be read ({error}); the node will not guess what it signed");
    }
}

/// <summary>A journal in memory: it survives an engine restart inside the process, not a process crash (tests).</summary>
public sealed class InMemoryConsensusJournal : IConsensusJournal
{
    private byte[]? _saved;

    /// <summary>How many states were saved.</summary>
    public int Saves { get; private set; }

    public ValueTask SaveAsync(ConsensusJournalState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        Volatile.Write(ref _saved, ConsensusCodec.EncodeJournal(state));
        Saves++;
        return ValueTask.CompletedTask;
    }

    public ValueTask<ConsensusJournalState?> LoadAsync(CancellationToken cancellationToken)
        => Volatile.Read(ref _saved) is not { } bytes ? ValueTask.FromResult<ConsensusJournalState?>(null)
            : ConsensusCodec.TryDecodeJournal(bytes, out var state, out var error) ? ValueTask.FromResult<ConsensusJournalState?>(state)
            : throw new InvalidDataException(error);
}
