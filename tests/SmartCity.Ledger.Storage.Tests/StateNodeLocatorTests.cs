using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Storage.Embedded;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>The state-node locator's copy for a snapshot: independent of the live table, and made into a handed-back copy's arrays.</summary>
public sealed class StateNodeLocatorTests
{
    [Fact]
    public void A_copy_holds_the_entries_of_its_moment_and_reuses_a_returned_copy_of_the_same_size()
    {
        var live = new StateNodeLocator(capacity: 1_000);
        for (var i = 1; i <= 500; i++)
        {
            live.Put(HashOf(i), StateNodeLocator.Pack(1, 100 + i), static _ => false);
        }

        var first = live.Copy();
        live.Put(HashOf(501), StateNodeLocator.Pack(2, 7), static _ => false);
        Assert.True(live.Remove(HashOf(1), static _ => true));

        // The copy is the table as it was: the put and the removal after it do not reach it.
        Assert.Equal(500, first.Count);
        Assert.Equal(Entries(first), Enumerable.Range(1, 500).Select(i => (StateNodeLocator.PrefixOf(HashOf(i)), StateNodeLocator.Pack(1, 100 + i))).Order());

        // Handed back, the next copy is made into its arrays, and is the live table now.
        var second = live.Copy(first);
        Assert.Same(first, second);
        Assert.Equal(Entries(live), Entries(second));
        Assert.Equal(live.Count, second.Count);

        // After the live tables grew past the handed-back copy's, the copy is still exact (grown tables get new arrays).
        for (var i = 502; i <= 3_000; i++)
        {
            live.Put(HashOf(i), StateNodeLocator.Pack(3, i), static _ => false);
        }

        var third = live.Copy(second);
        Assert.Equal(Entries(live), Entries(third));
        Assert.Equal(1, third.Candidates(HashOf(2_000), stackalloc long[4]));
        live.Put(HashOf(3_001), StateNodeLocator.Pack(3, 3_001), static _ => false);
        Assert.Equal(0, third.Candidates(HashOf(3_001), stackalloc long[4]));
    }

    [Fact]
    public void Puts_moves_and_removals_through_many_growths_answer_as_a_plain_multimap_does()
    {
        var random = new Random(20261203);
        var locator = new StateNodeLocator(capacity: 16);
        var reference = new Dictionary<ulong, List<long>>();
        var hashes = new List<Hash256>();
        Span<long> left = stackalloc long[8];
        for (var step = 0; step < 200_000; step++)
        {
            var roll = random.Next(10);
            if (roll < 7 || hashes.Count == 0)
            {
                var hash = NewHash(random, hashes);
                var position = StateNodeLocator.Pack(1, step + 1);
                locator.Put(hash, position, static _ => false);
                hashes.Add(hash);
                Add(reference, StateNodeLocator.PrefixOf(hash), position);
            }
            else if (roll < 9)
            {
                // The same node written again: its entry moves to the newer position.
                var hash = hashes[random.Next(hashes.Count)];
                var prefix = StateNodeLocator.PrefixOf(hash);
                if (reference.TryGetValue(prefix, out var at) && at.Count == 1)
                {
                    var old = at[0];
                    var position = StateNodeLocator.Pack(2, step + 1);
                    locator.Put(hash, position, old, static (expected, existing) => existing == expected);
                    at[0] = position;
                }
            }
            else
            {
                var hash = hashes[random.Next(hashes.Count)];
                var prefix = StateNodeLocator.PrefixOf(hash);
                var removed = locator.Remove(hash, static _ => true);
                var before = reference.TryGetValue(prefix, out var at) ? at : [];
                Assert.Equal(before.Count > 0, removed);
                if (removed)
                {
                    // Any one of the prefix's entries may go: exactly one did, and the rest are still there.
                    var n = locator.Candidates(hash, left);
                    var rest = left[..n].ToArray();
                    Assert.Equal(before.Count - 1, n);
                    Assert.Subset(before.ToHashSet(), rest.ToHashSet());
                    reference[prefix] = [.. rest];
                }
            }
        }

        Assert.Equal(reference.Values.Sum(v => v.Count), locator.Count);
        Span<long> found = stackalloc long[8];
        foreach (var hash in hashes)
        {
            var n = locator.Candidates(hash, found);
            var expected = reference.TryGetValue(StateNodeLocator.PrefixOf(hash), out var at) ? at : [];
            Assert.Equal(expected.Order(), found[..n].ToArray().Order());
        }

        Assert.Equal(reference.SelectMany(p => p.Value.Select(v => (p.Key, v))).Order(), Entries(locator));
    }

    [Fact]
    public void A_base_file_and_the_change_files_after_it_load_into_the_same_entries_as_the_live_locator()
    {
        var directory = Path.Combine(Path.GetTempPath(), "smartcity-locator-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var random = new Random(20261203);
            var live = new StateNodeLocator(capacity: 16);
            var hashes = new List<Hash256>();
            var files = new List<(string Path, LocatorRunFile.Reference Reference)>();
            var position = 1L;
            for (var round = 0; round < 12; round++)
            {
                if (round == 0 || round == 6)
                {
                    // A base: every entry (as a snapshot writes one), and the changes are recorded from here on.
                    files.Clear();
                    var path = Path.Combine(directory, $"locator-{round}.run");
                    files.Add((path, LocatorRunFile.WriteBase(path, live.Copy())));
                    live.StartLog(limit: 1 << 20);
                }

                for (var step = 0; step < 5_000; step++)
                {
                    var roll = random.Next(10);
                    if (roll < 7 || hashes.Count == 0)
                    {
                        var hash = NewHash(random, hashes);
                        hashes.Add(hash);
                        live.Put(hash, position++, static _ => false);
                    }
                    else if (roll < 9)
                    {
                        var hash = hashes[random.Next(hashes.Count)];
                        live.Put(hash, position++, static _ => true); // written again: moves one entry of the prefix
                    }
                    else
                    {
                        live.Remove(hashes[random.Next(hashes.Count)], static _ => true); // pruned
                    }
                }

                // A delta: the changes since the last file, taken as a snapshot takes them.
                var deltaPath = Path.Combine(directory, $"locator-{round}-delta.run");
                using var log = live.TakeLog();
                Assert.InRange(log.Count, 4_500, 5_000); // every step but a removal of a node already gone
                files.Add((deltaPath, LocatorRunFile.WriteDelta(deltaPath, log)));
            }

            var loaded = new StateNodeLocator();
            foreach (var (path, reference) in files)
            {
                LocatorRunFile.Apply(path, reference, loaded);
            }

            Assert.Equal(7, files.Count); // the base of round 6 and the six deltas after it
            Assert.Equal(live.Count, loaded.Count);
            Assert.Equal(Entries(live), Entries(loaded));

            // A file that is not the one the manifest names, or damaged, is refused, not applied.
            var (lastPath, last) = files[^1];
            Assert.Throws<StoreCorruptedException>(() => LocatorRunFile.Apply(lastPath, last with { Checksum = last.Checksum ^ 1 }, new StateNodeLocator()));
            var bytes2 = File.ReadAllBytes(lastPath);
            bytes2[20] ^= 0x40;
            File.WriteAllBytes(lastPath, bytes2);
            Assert.Throws<StoreCorruptedException>(() => LocatorRunFile.Apply(lastPath, last, new StateNodeLocator()));

            // A change to an entry that is not there (a delta applied to the wrong base) is refused.
            Assert.Throws<StoreCorruptedException>(() => new StateNodeLocator().Replay(new LocatorChange(42, 7, 3)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_sorted_base_read_in_place_under_the_changes_since_it_answers_as_the_model_through_rebases_and_a_reload()
    {
        var directory = Path.Combine(Path.GetTempPath(), "smartcity-locator-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var random = new Random(20261204);
            var live = new StateNodeLocator(capacity: 16);
            var model = new Dictionary<Hash256, List<long>>(); // each node's entries (two when it was written again while its entry was in the base)
            var hashes = new List<Hash256>();
            var inBase = new HashSet<long>();
            var files = new List<(string Path, LocatorRunFile.Reference Reference)>();
            StateNodeLocator? captured = null;
            HashSet<long>? capturedPositions = null;
            LocatorBase? pending = null;
            var position = 0L;
            var rebases = 0;
            for (var step = 1; step <= 58_000; step++)
            {
                if (step % 10_000 == 0)
                {
                    // A snapshot freezes the tables (over the base) and starts recording; it writes the base from them
                    // later, while the changes go on in fresh tables. An entry in the frozen tables is treated as one in
                    // the base from here on: a node written again gets a second entry.
                    captured = live.Freeze();
                    capturedPositions = [.. model.Values.SelectMany(at => at)];
                    inBase = capturedPositions;
                    live.StartLog(limit: 1 << 20);
                    Assert.Throws<InvalidOperationException>(() => live.Freeze()); // one snapshot's tables at a time
                }
                else if (step % 10_000 == 3_000 && captured is not null)
                {
                    var path = Path.Combine(directory, $"locator-{step}.run");
                    var written = LocatorRunFile.WriteSortedBase(path, captured);
                    var @base = LocatorBase.Open(path, written);
                    Assert.Equal(capturedPositions!.Count, @base.Count);
                    files.Clear();
                    files.Add((path, written));
                    captured = null;
                    if (rebases % 2 == 0)
                    {
                        live = live.Rebased(@base); // the tables since the freeze become the new locator's
                        rebases++;
                    }
                    else
                    {
                        pending = @base; // installed later, as a store installs a snapshot once its files are written
                    }
                }
                else if (step % 10_000 == 2_999 && captured is not null)
                {
                    // While frozen: every look-up answers as the model, through the tables since, the frozen ones and the base.
                    var seen = new long[16];
                    foreach (var hash in hashes.Where((_, i) => i % 7 == 0))
                    {
                        var prefix = StateNodeLocator.PrefixOf(hash);
                        var n = live.Candidates(hash, seen);
                        var want = model.Where(pair => StateNodeLocator.PrefixOf(pair.Key) == prefix).SelectMany(pair => pair.Value).Order();
                        Assert.Equal(want, seen[..n].Order());
                    }
                }
                else if (step % 10_000 == 3_500 && pending is { } newBase)
                {
                    live = live.Rebased(newBase);
                    rebases++;
                    pending = null;
                }
                else if (step % 10_000 == 6_000 && files.Count > 0)
                {
                    var path = Path.Combine(directory, $"locator-{step}-delta.run");
                    using var log = live.TakeLog();
                    files.Add((path, LocatorRunFile.WriteDelta(path, log)));
                }

                var roll = random.Next(10);
                if (roll < 6 || hashes.Count == 0)
                {
                    var hash = NewHash(random, hashes);
                    hashes.Add(hash);
                    live.Put(hash, ++position, static _ => false);
                    model[hash] = [position];
                }
                else if (roll < 8)
                {
                    // Written again: the node's entry in the tables moves; one in the base stays, and a second is added.
                    var hash = hashes[random.Next(hashes.Count)];
                    var at = model[hash];
                    live.Put(hash, ++position, at, static (mine, existing) => mine.Contains(existing));
                    var inTables = at.FindIndex(p => !inBase.Contains(p));
                    if (inTables >= 0)
                    {
                        at[inTables] = position;
                    }
                    else
                    {
                        at.Add(position);
                    }
                }
                else
                {
                    // Pruned: one chosen entry of the node goes, from the tables or (a tombstone) from the base.
                    var hash = hashes[random.Next(hashes.Count)];
                    var at = model[hash];
                    if (at.Count > 0)
                    {
                        var target = at[random.Next(at.Count)];
                        Assert.True(live.Remove(hash, p => p == target));
                        at.Remove(target);
                        Assert.False(live.Remove(hash, p => p == target)); // gone: not found again, in the tables or the base
                    }
                }
            }

            Assert.Equal(5, rebases);
            Assert.NotNull(live.Base);
            Assert.Equal(model.Values.Sum(at => at.Count), live.Count);
            Assert.InRange(live.TableEntries, 1, live.Count / 2); // most entries are read from the file
            var expected = model.SelectMany(pair => pair.Value.Select(at => (StateNodeLocator.PrefixOf(pair.Key), at))).Order().ToList();
            Assert.Equal(expected, Entries(live));
            Assert.Equal(expected, live.SortedEntries().ToList());
            Span<long> found = stackalloc long[16];
            foreach (var hash in hashes)
            {
                var prefix = StateNodeLocator.PrefixOf(hash);
                var n = live.Candidates(hash, found);
                Assert.Equal(expected.Where(e => e.Item1 == prefix).Select(e => e.Item2), found[..n].ToArray().Order());
            }

            // Reopened as a restart reads it: the base in place, the deltas after it replayed.
            {
                var last = Path.Combine(directory, "locator-last-delta.run");
                using var log = live.TakeLog();
                files.Add((last, LocatorRunFile.WriteDelta(last, log)));
            }

            var (basePath, baseReference) = files[0];
            var loaded = new StateNodeLocator(LocatorBase.Open(basePath, baseReference));
            foreach (var (path, reference) in files.Skip(1))
            {
                LocatorRunFile.Apply(path, reference, loaded);
            }

            Assert.Equal(live.Count, loaded.Count);
            Assert.Equal(expected, Entries(loaded));

            // A damaged base, or one that is not the file the manifest names, is refused.
            Assert.Throws<StoreCorruptedException>(() => LocatorBase.Open(basePath, baseReference with { Checksum = baseReference.Checksum ^ 1 }));
            Assert.Throws<StoreCorruptedException>(() => LocatorBase.Open(basePath, baseReference with { Count = baseReference.Count + 1 }));
            var bytes = File.ReadAllBytes(basePath);
            bytes[LocatorRunFile.HeaderSize + 3] ^= 0x10;
            File.WriteAllBytes(basePath, bytes);
            Assert.Throws<StoreCorruptedException>(() => LocatorBase.Open(basePath, baseReference));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Tables_frozen_for_a_base_that_is_not_installed_are_taken_back_with_the_changes_made_meanwhile()
    {
        var directory = Path.Combine(Path.GetTempPath(), "smartcity-locator-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var model = new Dictionary<Hash256, List<long>>();
            var live = new StateNodeLocator();
            void Add(int i, long at)
            {
                live.Put(HashOf(i), at, static _ => false);
                model[HashOf(i)] = [at];
            }

            LocatorBase WriteBase(string name, StateNodeLocator frozen)
            {
                var path = Path.Combine(directory, name);
                return LocatorBase.Open(path, LocatorRunFile.WriteSortedBase(path, frozen));
            }

            for (var i = 1; i <= 3_000; i++)
            {
                Add(i, i);
            }

            var first = live.Freeze();
            live.StartLog(limit: 1 << 20);
            live = live.Rebased(WriteBase("first.run", first));
            Assert.Equal(0, live.TableEntries);
            for (var i = 3_001; i <= 4_000; i++)
            {
                Add(i, i);
            }

            // A second snapshot freezes the tables (3,001-4,000 over the base's 1-3,000); meanwhile the writer adds,
            // moves and removes in every layer.
            var second = live.Freeze();
            Assert.True(live.IsFrozen);
            Assert.Equal(4_000, second.Count);
            for (var i = 4_001; i <= 4_500; i++)
            {
                Add(i, i);
            }

            Assert.True(live.Remove(HashOf(10), at => at == 10)); // the base's: a tombstone
            Assert.True(live.Remove(HashOf(3_500), at => at == 3_500)); // the frozen tables': a tombstone
            Assert.True(live.Remove(HashOf(4_100), at => at == 4_100)); // the tables since: gone
            Assert.False(live.Remove(HashOf(3_500), at => at == 3_500));
            model.Remove(HashOf(10));
            model.Remove(HashOf(3_500));
            model.Remove(HashOf(4_100));
            live.Put(HashOf(3_600), 9_000, 3_600L, static (was, at) => at == was); // frozen: a second entry
            model[HashOf(3_600)].Add(9_000);
            live.Put(HashOf(4_200), 9_001, 4_200L, static (was, at) => at == was); // since: moves
            model[HashOf(4_200)] = [9_001];

            var expected = model.SelectMany(pair => pair.Value.Select(at => (StateNodeLocator.PrefixOf(pair.Key), at))).Order().ToList();
            Assert.Equal(expected.Count, live.Count);
            Span<long> found = stackalloc long[16];
            foreach (var (hash, positions) in model)
            {
                var n = live.Candidates(hash, found);
                Assert.Equal(positions.Order(), found[..n].ToArray().Order());
            }

            Assert.Equal(0, live.Candidates(HashOf(10), found));
            Assert.Equal(0, live.Candidates(HashOf(3_500), found));
            Assert.Throws<InvalidOperationException>(() => live.Entries().ToList()); // not while frozen

            // The base is not installed (the snapshot failed): the frozen tables come back with the changes in them.
            live.StopLog();
            live.Thaw();
            Assert.False(live.IsFrozen);
            Assert.Equal(expected, Entries(live));
            Assert.Equal(expected.Count, live.Count);

            // And carry on: the next snapshot freezes them again, and its base holds every entry.
            var third = live.Freeze();
            live.StartLog(limit: 1 << 20);
            var thirdBase = WriteBase("third.run", third);
            live = live.Rebased(thirdBase);
            Assert.Equal(expected, Entries(live));
            Assert.Equal(expected, Entries(new StateNodeLocator(thirdBase)));
            Assert.Equal(0, live.TableEntries);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_sorted_base_keeps_serving_after_its_file_is_deleted_and_its_entries_are_in_prefix_order()
    {
        var path = Path.Combine(Path.GetTempPath(), "smartcity-locator-" + Guid.NewGuid().ToString("N") + ".run");
        var live = new StateNodeLocator();
        for (var i = 1; i <= 20_000; i++)
        {
            live.Put(HashOf(i), i, static _ => false);
        }

        var written = LocatorRunFile.WriteSortedBase(path, live.Copy());
        var @base = LocatorBase.Open(path, written);
        File.Delete(path); // a newer base replaced it, while a locator still reads this one
        var over = new StateNodeLocator(@base);
        var entries = over.SortedEntries().ToList();
        Assert.Equal(Entries(live), entries);
        Assert.True(entries.SequenceEqual(entries.Order()));
        Span<long> found = stackalloc long[4];
        Assert.Equal(1, over.Candidates(HashOf(12_345), found));
        Assert.Equal(12_345, found[0]);
        Assert.Equal(0, over.Candidates(HashOf(20_001), found));
    }

    [Fact]
    public void A_change_file_of_several_log_chunks_keeps_their_order()
    {
        // 150,000 changes span three of the log's 65,536-change chunks; each entry moves twice, so order matters.
        var path = Path.Combine(Path.GetTempPath(), "smartcity-locator-" + Guid.NewGuid().ToString("N") + ".run");
        try
        {
            var live = new StateNodeLocator();
            live.StartLog(limit: 1 << 20);
            for (var i = 1; i <= 50_000; i++)
            {
                live.Put(HashOf(i), i, static _ => false);
            }

            for (var round = 1; round <= 2; round++)
            {
                for (var i = 1; i <= 50_000; i++)
                {
                    live.Put(HashOf(i), (round * 100_000L) + i, static _ => true);
                }
            }

            using var log = live.TakeLog();
            Assert.Equal(150_000, log.Count);
            var reference = LocatorRunFile.WriteDelta(path, log);
            var loaded = new StateNodeLocator();
            LocatorRunFile.Apply(path, reference, loaded);
            Assert.Equal(Entries(live), Entries(loaded));
            Assert.Equal(Enumerable.Range(1, 50_000).Select(i => (StateNodeLocator.PrefixOf(HashOf(i)), 200_000L + i)).Order(), Entries(loaded));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_next_log_fills_the_chunks_a_written_log_gave_back_and_records_its_own_changes_exactly()
    {
        var path = Path.Combine(Path.GetTempPath(), "smartcity-locator-" + Guid.NewGuid().ToString("N") + ".run");
        try
        {
            var live = new StateNodeLocator();
            live.StartLog(limit: 1 << 22);
            var perChunk = LocatorChangeLog.ChunkSize;
            for (var i = 1; i <= perChunk + 10; i++)
            {
                live.Put(HashOf(i), i, static _ => false);
            }

            var first = live.TakeLog();
            Assert.Equal(2, first.ChunkCount);
            var chain = new List<LocatorRunFile.Reference>();
            var loaded = new StateNodeLocator();
            chain.Add(LocatorRunFile.WriteDelta(path + ".1", first));
            first.Dispose(); // written: its two chunks go back
            Assert.Equal(2, live.PooledLogChunks);

            // The next interval's changes (moves of earlier entries and new ones) land in the chunks given back, which
            // still hold the first log's bytes: only what the new log wrote counts.
            for (var i = 1; i <= perChunk + 10; i++)
            {
                live.Put(HashOf(i), 1_000_000L + i, static _ => true);
            }

            for (var i = perChunk + 11; i <= perChunk + 5_000; i++)
            {
                live.Put(HashOf(i), i, static _ => false);
            }

            using var second = live.TakeLog();
            Assert.Equal(0, live.PooledLogChunks); // both reused, no fresh memory
            chain.Add(LocatorRunFile.WriteDelta(path + ".2", second));
            LocatorRunFile.Apply(path + ".1", chain[0], loaded);
            LocatorRunFile.Apply(path + ".2", chain[1], loaded);
            Assert.Equal(Entries(live), Entries(loaded));
        }
        finally
        {
            File.Delete(path + ".1");
            File.Delete(path + ".2");
        }
    }

    [Fact]
    public void A_log_past_its_limit_stops_and_the_locator_says_the_next_snapshot_needs_every_entry()
    {
        var locator = new StateNodeLocator();
        Assert.False(locator.IsLogging);
        locator.StartLog(limit: 10);
        for (var i = 1; i <= 10; i++)
        {
            locator.Put(HashOf(i), i, static _ => false);
        }

        Assert.True(locator.IsLogging);
        Assert.Equal(10, locator.LoggedChanges);
        locator.Put(HashOf(11), 11, static _ => false);
        Assert.False(locator.IsLogging);
        Assert.Equal(11, locator.Count); // the entries are all there: only the record of the changes is gone
    }

    // A new node's hash; one in fifty shares the first 8 bytes of an earlier one (a different node: both are kept, and
    // the other 24 random bytes still tell them apart).
    private static Hash256 NewHash(Random random, List<Hash256> earlier)
    {
        var bytes = new byte[Hash256.Size];
        random.NextBytes(bytes);
        if (earlier.Count > 0 && random.Next(50) == 0)
        {
            earlier[random.Next(earlier.Count)].Bytes[..8].CopyTo(bytes);
        }

        return new Hash256(bytes);
    }

    private static void Add(Dictionary<ulong, List<long>> reference, ulong prefix, long position)
    {
        if (!reference.TryGetValue(prefix, out var list))
        {
            reference[prefix] = list = [];
        }

        list.Add(position);
    }

    private static Hash256 HashOf(int i) => Keccak256.Hash(BitConverter.GetBytes(i));

    private static List<(ulong, long)> Entries(StateNodeLocator locator) => [.. locator.Entries().Order()];
}
