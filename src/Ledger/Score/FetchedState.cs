using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Score;

/// <summary>
/// Runs a pure computation over state that can only be read asynchronously (a store): the computation runs over the
/// values fetched so far; every key it asked for and did not have is fetched, and it runs again, until a run asks
/// for nothing new. A score settles in about four rounds (index; records, entries, members; memorandum lists;
/// memoranda), and the last run is an ordinary run over exactly the values it reads, so the answer is the one the
/// computation gives over the store's state.
/// </summary>
public static class FetchedState
{
    /// <summary>Rounds after which a computation that keeps asking for new keys is a bug.</summary>
    public const int MaxRounds = 32;

    public static async ValueTask<T> ComputeAsync<T>(Func<IStateReader, T> compute, Func<Hash256, CancellationToken, ValueTask<byte[]?>> fetch, CryptoSuite suite, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(compute);
        ArgumentNullException.ThrowIfNull(fetch);
        var known = new Dictionary<Hash256, byte[]?>();
        for (var round = 0; round < MaxRounds; round++)
        {
            var reader = new Recorder(known, suite);
            T result;
            try
            {
                result = compute(reader);
            }
            catch (InvalidDataException) when (reader.Missed.Count > 0)
            {
                // A key the computation requires was not fetched yet: a partial view, not corrupt state.
                result = default!;
            }

            if (reader.Missed.Count == 0)
            {
                return result;
            }

            foreach (var key in reader.Missed)
            {
                known[key] = await fetch(key, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new InvalidOperationException($"the computation still asked for new state keys after {MaxRounds} rounds");
    }

    private sealed class Recorder(Dictionary<Hash256, byte[]?> known, CryptoSuite suite) : IStateReader
    {
        public CryptoSuite Suite => suite;

        public HashSet<Hash256> Missed { get; } = [];

        public byte[]? Get(Hash256 key)
        {
            if (known.TryGetValue(key, out var value))
            {
                return value;
            }

            Missed.Add(key);
            return null;
        }
    }
}
