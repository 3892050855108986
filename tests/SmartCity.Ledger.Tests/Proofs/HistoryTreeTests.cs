using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Proofs;

namespace SmartCity.Ledger.Tests.Proofs;

public sealed class HistoryTreeTests
{
    /// <summary>The RFC-definition and tamper tests run under both suites' history hash (SHA-256 and SM3).</summary>
    public static TheoryData<CryptoSuiteId> Suites => [CryptoSuiteId.Eth, CryptoSuiteId.Gm];

    // The eight leaves and the roots of their prefixes published with Certificate Transparency's RFC 6962 Merkle tree
    // tests (google/certificate-transparency merkle_tree_test, also certificate-transparency-go's merkle test data).
    private static readonly byte[][] CtLeaves =
    [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        Convert.FromHexString("5051525354555657"), Convert.FromHexString("606162636465666768696a6b6c6d6e6f"),
    ];

    private static readonly string[] CtRoots =
    [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    [Fact]
    public void Roots_of_the_certificate_transparency_test_tree_match_the_published_values()
    {
        var tree = TreeOf(CtLeaves);
        for (var size = 0; size <= CtLeaves.Length; size++)
        {
            Assert.Equal(CtRoots[size], Hex(tree.RootAt(size)));
        }

        Assert.Equal(CtRoots[8], Hex(tree.Root));
    }

    [Fact]
    public void A_root_computed_without_node_storage_is_the_published_root_of_every_prefix()
    {
        var leafHashes = CtLeaves.Select(leaf => Rfc6962.LeafHash(leaf)).ToArray();
        for (var size = 0; size <= CtLeaves.Length; size++)
        {
            Assert.Equal(CtRoots[size], Hex(HistoryTree.RootOf(leafHashes.AsSpan(0, size), CryptoSuite.Eth)));
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void A_root_computed_without_node_storage_matches_the_rfc_definition(CryptoSuiteId suite)
    {
        var random = new Random(9162);
        var leaves = Enumerable.Range(0, 300).Select(i => { var leaf = new byte[random.Next(0, 40)]; random.NextBytes(leaf); return leaf; }).ToList();
        var hashes = leaves.Select(leaf => CryptoSuite.For(suite).HistoryLeafHash(leaf)).ToArray();
        foreach (var size in new[] { 1, 2, 3, 7, 64, 65, 255, 300 })
        {
            Assert.Equal(Rfc9162Reference.Mth(suite, leaves, 0, size), HistoryTree.RootOf(hashes.AsSpan(0, size), CryptoSuite.For(suite)));
        }
    }

    [Theory]
    [InlineData(0, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7 5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e 6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]
    [InlineData(5, "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0 d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]
    public void Inclusion_proofs_in_the_certificate_transparency_test_tree_match_the_published_values(int index, string expected)
    {
        var proof = TreeOf(CtLeaves).ProveInclusion(index, 8);
        Assert.Equal(expected, string.Join(' ', proof.Path.Select(Hex)));
        Assert.True(proof.Verify(Rfc6962.LeafHash(CtLeaves[index]), Hash256.Parse(CtRoots[8])));
    }

    [Theory]
    [InlineData(2, "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e 6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]
    [InlineData(6, "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0 d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]
    public void Consistency_proofs_in_the_certificate_transparency_test_tree_match_the_published_values(int first, string expected)
    {
        var proof = TreeOf(CtLeaves).ProveConsistency(first, 8);
        Assert.Equal(expected, string.Join(' ', proof.Path.Select(Hex)));
        Assert.True(proof.Verify(Hash256.Parse(CtRoots[first]), Hash256.Parse(CtRoots[8])));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Roots_and_proofs_at_every_size_up_to_300_equal_the_rfc_definitions(CryptoSuiteId id)
    {
        var suite = CryptoSuite.For(id);
        var leaves = Leaves(300, seed: 1);
        var tree = TreeOf(leaves, suite);
        var random = new Random(2);
        for (var n = 1; n <= leaves.Length; n++)
        {
            var root = tree.RootAt(n);
            Assert.Equal(Rfc9162Reference.Mth(id, leaves, 0, n), root);

            // Every index and every older size while the tree is small, a sample beyond.
            var exhaustive = n <= 100;
            var indices = exhaustive ? Enumerable.Range(0, n) : Enumerable.Range(0, 12).Select(_ => random.Next(n)).Append(0).Append(n - 1);
            foreach (var index in indices)
            {
                var proof = tree.ProveInclusion(index, n);
                Assert.Equal(Rfc9162Reference.Path(id, index, leaves, 0, n), proof.Path);
                Assert.True(proof.Verify(suite.HistoryLeafHash(leaves[index]), root, suite));
            }

            var olderSizes = exhaustive ? Enumerable.Range(1, n) : Enumerable.Range(0, 12).Select(_ => 1 + random.Next(n)).Append(n - 1).Append(n);
            foreach (var m in olderSizes.Where(m => m >= 1))
            {
                var proof = tree.ProveConsistency(m, n);
                Assert.Equal(m == n ? [] : Rfc9162Reference.Proof(id, m, leaves, n), proof.Path);
                Assert.True(proof.Verify(tree.RootAt(m), root, suite), $"consistency {m} -> {n}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Proofs_in_a_tree_of_100k_leaves_equal_the_rfc_definitions_at_random_sizes(CryptoSuiteId id)
    {
        var suite = CryptoSuite.For(id);
        var leaves = Leaves(100_000, seed: 3);
        var tree = new HistoryTree(new InMemoryHistoryNodeStore(), 0, suite);
        tree.AppendLeafHashes(leaves.Select(leaf => suite.HistoryLeafHash(leaf)).ToArray());
        var random = new Random(4);
        for (var sample = 0; sample < 12; sample++)
        {
            var n = random.Next(1, leaves.Length + 1);
            var root = tree.RootAt(n);
            Assert.Equal(Rfc9162Reference.Mth(id, leaves, 0, n), root);

            var index = random.Next(n);
            var inclusion = tree.ProveInclusion(index, n);
            Assert.Equal(Rfc9162Reference.Path(id, index, leaves, 0, n), inclusion.Path);
            Assert.True(inclusion.Verify(suite.HistoryLeafHash(leaves[index]), root, suite));

            var m = random.Next(1, n + 1);
            var consistency = tree.ProveConsistency(m, n);
            Assert.Equal(m == n ? [] : Rfc9162Reference.Proof(id, m, leaves, n), consistency.Path);
            Assert.True(consistency.Verify(tree.RootAt(m), root, suite));
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Appending_one_by_one_in_a_batch_or_after_reopening_the_store_gives_the_same_tree(CryptoSuiteId id)
    {
        var suite = CryptoSuite.For(id);
        var leaves = Leaves(1_000, seed: 5);
        var oneByOne = TreeOf(leaves, suite);

        var store = new InMemoryHistoryNodeStore();
        var first = new HistoryTree(store, 0, suite);
        first.AppendLeafHashes(leaves.Take(637).Select(leaf => suite.HistoryLeafHash(leaf)).ToArray());
        var reopened = new HistoryTree(store, 637, suite);
        Assert.Equal(first.Root, reopened.Root);
        foreach (var leaf in leaves.Skip(637))
        {
            reopened.Append(leaf);
        }

        Assert.Equal(1_000, reopened.Size);
        Assert.Equal(oneByOne.Root, reopened.Root);
        Assert.Equal(oneByOne.RootAt(1_000), reopened.RootAt(1_000));
        Assert.Equal(oneByOne.ProveConsistency(637, 1_000).Path.ToArray(), reopened.ProveConsistency(637, 1_000).Path.ToArray());
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Verifiers_accept_the_degenerate_consistency_cases_only_with_an_empty_proof(CryptoSuiteId id)
    {
        var suite = CryptoSuite.For(id);
        var tree = TreeOf(Leaves(9, seed: 6), suite);
        Assert.Empty(tree.ProveConsistency(0, 9).Path);
        Assert.True(ConsistencyProof.Verify(0, 9, suite.EmptyHistoryRoot, tree.RootAt(9), [], suite));
        Assert.False(ConsistencyProof.Verify(0, 9, tree.RootAt(1), tree.RootAt(9), [], suite));
        Assert.False(ConsistencyProof.Verify(0, 9, suite.EmptyHistoryRoot, tree.RootAt(9), [tree.RootAt(9)], suite));
        Assert.True(ConsistencyProof.Verify(5, 5, tree.RootAt(5), tree.RootAt(5), [], suite));
        Assert.False(ConsistencyProof.Verify(5, 5, tree.RootAt(5), tree.RootAt(6), [], suite));
        Assert.False(ConsistencyProof.Verify(5, 5, tree.RootAt(5), tree.RootAt(5), [tree.RootAt(5)], suite));
        Assert.False(ConsistencyProof.Verify(6, 5, tree.RootAt(6), tree.RootAt(5), [], suite));
        Assert.False(ConsistencyProof.Verify(5, 9, tree.RootAt(5), tree.RootAt(9), [], suite));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Inclusion_verifier_rejects_every_tampered_proof(CryptoSuiteId id)
    {
        var suite = CryptoSuite.For(id);
        var leaves = Leaves(41, seed: 7);
        var tree = TreeOf(leaves, suite);
        var junk = suite.HistoryLeafHash([0xAB]);
        for (var n = 1; n <= 40; n++)
        {
            var root = tree.RootAt(n);
            for (var index = 0; index < n; index++)
            {
                var leafHash = suite.HistoryLeafHash(leaves[index]);
                var path = tree.ProveInclusion(index, n).Path.ToArray();
                Assert.True(InclusionProof.Verify(leafHash, index, n, path, root, suite));

                foreach (var tampered in EverySingleByteChange(path))
                {
                    Assert.False(InclusionProof.Verify(leafHash, index, n, tampered, root, suite));
                }

                // Another position in the same log, checked against that size's own root. (Against this size's root a
                // larger size can pass for a leftmost path: as in RFC 9162, the signed header binds size and root.)
                foreach (var (otherIndex, otherSize) in new[] { (index - 1, n), (index + 1, n), (index, n - 1), (index, n + 1), (index + n, n) })
                {
                    var otherRoot = otherSize > 0 ? tree.RootAt(otherSize) : root;
                    Assert.False(InclusionProof.Verify(leafHash, otherIndex, otherSize, path, otherRoot, suite), $"leaf {index}/{n} as {otherIndex}/{otherSize}");
                }

                foreach (var reshaped in Reshaped(path, junk))
                {
                    Assert.False(InclusionProof.Verify(leafHash, index, n, reshaped, root, suite));
                }

                Assert.False(InclusionProof.Verify(leafHash, index, n, path, tree.RootAt(n - 1), suite));
                Assert.False(InclusionProof.Verify(junk, index, n, path, root, suite));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Consistency_verifier_rejects_every_tampered_proof(CryptoSuiteId id)
    {
        var suite = CryptoSuite.For(id);
        var tree = TreeOf(Leaves(41, seed: 8), suite);
        var junk = suite.HistoryLeafHash([0xCD]);
        for (var n = 2; n <= 40; n++)
        {
            for (var m = 1; m < n; m++)
            {
                var (first, second) = (tree.RootAt(m), tree.RootAt(n));
                var path = tree.ProveConsistency(m, n).Path.ToArray();
                Assert.True(ConsistencyProof.Verify(m, n, first, second, path, suite));

                foreach (var tampered in EverySingleByteChange(path))
                {
                    Assert.False(ConsistencyProof.Verify(m, n, first, second, tampered, suite));
                }

                foreach (var (otherM, otherN) in new[] { (m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1) })
                {
                    if (otherM >= 1 && otherM < otherN)
                    {
                        var (otherFirst, otherSecond) = (tree.RootAt(otherM), tree.RootAt(otherN));
                        Assert.False(ConsistencyProof.Verify(otherM, otherN, otherFirst, otherSecond, path, suite), $"{m}->{n} as {otherM}->{otherN}");
                    }
                }

                foreach (var reshaped in Reshaped(path, junk))
                {
                    Assert.False(ConsistencyProof.Verify(m, n, first, second, reshaped, suite));
                }

                Assert.False(ConsistencyProof.Verify(m, n, junk, second, path, suite));
                Assert.False(ConsistencyProof.Verify(m, n, first, junk, path, suite));
                Assert.False(ConsistencyProof.Verify(m, n, second, first, path, suite));
            }
        }
    }

    [Fact]
    public void Proofs_round_trip_through_their_binary_and_json_forms()
    {
        var leaves = Leaves(77, seed: 9);
        var tree = TreeOf(leaves);
        var inclusion = tree.ProveInclusion(41, 77);
        Assert.True(InclusionProof.TryDecode(inclusion.Encode(), out var decoded));
        Assert.True(InclusionProof.TryParseJson(inclusion.ToJson(), out var parsed));
        foreach (var copy in new[] { decoded, parsed })
        {
            Assert.Equal((41L, 77L), (copy.LeafIndex, copy.TreeSize));
            Assert.Equal(inclusion.Path.ToArray(), copy.Path.ToArray());
        }

        var consistency = tree.ProveConsistency(13, 77);
        Assert.True(ConsistencyProof.TryDecode(consistency.Encode(), out var decodedConsistency));
        Assert.True(ConsistencyProof.TryParseJson(consistency.ToJson(), out var parsedConsistency));
        Assert.Equal(consistency.Encode(), decodedConsistency.Encode());
        Assert.Equal(consistency.Encode(), parsedConsistency.Encode());
        Assert.True(parsedConsistency.Verify(tree.RootAt(13), tree.RootAt(77)));
        Assert.False(parsedConsistency.Verify(tree.RootAt(13), tree.RootAt(77), CryptoSuite.Gm));

        var encoded = inclusion.Encode();
        Assert.False(InclusionProof.TryDecode(encoded[..^1], out _));
        Assert.False(InclusionProof.TryDecode([.. encoded, 0], out _));
        Assert.False(InclusionProof.TryDecode([2, .. encoded[1..]], out _));
        Assert.False(InclusionProof.TryParseJson("{\"version\":1,\"leafIndex\":1,\"treeSize\":2,\"path\":[\"0x01\"]}", out _));
        Assert.StartsWith("{\"version\":1,\"leafIndex\":41,\"treeSize\":77,\"path\":[\"0x", inclusion.ToJson(), StringComparison.Ordinal);
    }

    /// <summary>Every proof that differs from <paramref name="path"/> in exactly one byte of one hash.</summary>
    private static IEnumerable<Hash256[]> EverySingleByteChange(Hash256[] path)
    {
        for (var i = 0; i < path.Length; i++)
        {
            for (var b = 0; b < Hash256.Size; b++)
            {
                var bytes = path[i].ToArray();
                bytes[b] ^= (byte)(1 << (b % 8));
                var tampered = (Hash256[])path.Clone();
                tampered[i] = new Hash256(bytes);
                yield return tampered;
            }
        }
    }

    /// <summary>The proof truncated or extended at either end, or with neighbours swapped.</summary>
    private static IEnumerable<Hash256[]> Reshaped(Hash256[] path, Hash256 junk)
    {
        yield return [.. path, junk];
        yield return [junk, .. path];
        if (path.Length > 0)
        {
            yield return path[..^1];
            yield return path[1..];
            yield return [.. path, path[^1]];
        }

        for (var i = 0; i + 1 < path.Length; i++)
        {
            if (path[i] != path[i + 1])
            {
                var swapped = (Hash256[])path.Clone();
                (swapped[i], swapped[i + 1]) = (swapped[i + 1], swapped[i]);
                yield return swapped;
            }
        }
    }

    private static HistoryTree TreeOf(IEnumerable<byte[]> leaves, CryptoSuite? suite = null)
    {
        var tree = new HistoryTree(new InMemoryHistoryNodeStore(), 0, suite);
        foreach (var leaf in leaves)
        {
            tree.Append(leaf);
        }

        return tree;
    }

    private static byte[][] Leaves(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => { var leaf = new byte[random.Next(0, 80)]; random.NextBytes(leaf); return leaf; }).ToArray();
    }

    private static string Hex(Hash256 hash) => Convert.ToHexStringLower(hash.Bytes);
}
