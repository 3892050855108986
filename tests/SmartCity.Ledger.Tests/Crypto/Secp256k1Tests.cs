using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Crypto;

public sealed class Secp256k1Tests
{
    private const string Order = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

    // RFC 6979 (HMAC-SHA256) secp256k1 known answers published on bitcointalk.org, topic 285142
    // ("Deterministic Usage of DSA and ECDSA", msg3150733), digest = SHA-256(message), s given in low-s form.
    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000001", "Satoshi Nakamoto",
        "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8", "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000001", "All those moments will be lost in time, like tears in rain. Time to die...",
        "8600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b", "547fe64427496db33bf66019dacbf0039c04199abb0122918601db38a72cfc21")]
    [InlineData("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "Satoshi Nakamoto",
        "fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d0", "6b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5")]
    public void Rfc6979_signatures_match_the_published_known_answers(string privateKeyHex, string message, string r, string s)
    {
        var privateKey = Convert.FromHexString(privateKeyHex);
        var digest = new Hash256(SHA256.HashData(Encoding.ASCII.GetBytes(message)));
        foreach (var name in new[] { Secp256k1Implementations.Native, Secp256k1Implementations.Managed })
        {
            var secp256k1 = Secp256k1Implementations.Get(name);
            var signature = secp256k1.Sign(digest, privateKey);
            Assert.Equal(r + s, Convert.ToHexStringLower(signature.Compact));
            Assert.Equal(SignatureCheck.Ok, secp256k1.Verify(digest, signature, secp256k1.GetAddress(privateKey)));
        }
    }

    // The addresses of private keys 1 and 2 (well-known: G and 2G), as every Ethereum client derives them.
    [Theory]
    [InlineData(Secp256k1Implementations.Native, "0000000000000000000000000000000000000000000000000000000000000001", "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")]
    [InlineData(Secp256k1Implementations.Managed, "0000000000000000000000000000000000000000000000000000000000000001", "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")]
    [InlineData(Secp256k1Implementations.Native, "0000000000000000000000000000000000000000000000000000000000000002", "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF")]
    [InlineData(Secp256k1Implementations.Managed, "0000000000000000000000000000000000000000000000000000000000000002", "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF")]
    public void Address_of_a_known_key_is_the_published_one(string implementation, string privateKeyHex, string address)
        => Assert.Equal(address, Secp256k1Implementations.Get(implementation).GetAddress(Convert.FromHexString(privateKeyHex)).ToString());

    [Theory]
    [MemberData(nameof(Secp256k1Implementations.Both), MemberType = typeof(Secp256k1Implementations))]
    public void Public_key_of_key_1_is_the_generator_point(string implementation)
    {
        Span<byte> publicKey = stackalloc byte[64];
        Secp256k1Implementations.Get(implementation).GetPublicKey(Convert.FromHexString("0000000000000000000000000000000000000000000000000000000000000001"), publicKey);
        Assert.Equal(
            "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8",
            Convert.ToHexStringLower(publicKey));
    }

    [Theory]
    [MemberData(nameof(Secp256k1Implementations.Both), MemberType = typeof(Secp256k1Implementations))]
    public void High_s_twin_of_a_valid_signature_is_rejected(string implementation)
    {
        var secp256k1 = Secp256k1Implementations.Get(implementation);
        var (digest, signature, _) = SignedSample(secp256k1, 7);

        // (r, n - s) with the other recovery id is the same signature mathematically; EIP-2 accepts only low s.
        var n = new BigInteger(Convert.FromHexString(Order), isUnsigned: true, isBigEndian: true);
        var highS = n - new BigInteger(signature.S, isUnsigned: true, isBigEndian: true);
        var twin = new Signature(signature.R, Pad(highS.ToByteArray(isUnsigned: true, isBigEndian: true)), (byte)(55 - signature.V));

        Assert.Equal(SignatureCheck.HighS, secp256k1.Recover(digest, twin, out var signer));
        Assert.Equal(default, signer);
    }

    [Theory]
    [MemberData(nameof(Secp256k1Implementations.Both), MemberType = typeof(Secp256k1Implementations))]
    public void Malformed_signatures_are_typed_results_not_exceptions(string implementation)
    {
        var secp256k1 = Secp256k1Implementations.Get(implementation);
        var (digest, signature, _) = SignedSample(secp256k1, 11);
        var bytes = signature.ToArray();

        Assert.Equal(SignatureCheck.InvalidLength, secp256k1.Recover(digest.Bytes, bytes.AsSpan(0, 64), out _));
        Assert.Equal(SignatureCheck.InvalidLength, secp256k1.Recover(digest.Bytes[..31], bytes, out _));
        Assert.Equal(SignatureCheck.InvalidLength, secp256k1.Verify(digest.Bytes, [.. bytes, 0], default));

        foreach (var v in new byte[] { 2, 26, 29, 255 })
        {
            Assert.Equal(SignatureCheck.BadRecoveryId, secp256k1.Recover(digest, With(bytes, 64, v), out _));
        }

        Assert.Equal(SignatureCheck.OutOfRange, secp256k1.Recover(digest, WithWord(bytes, 0, new byte[32]), out _));
        Assert.Equal(SignatureCheck.OutOfRange, secp256k1.Recover(digest, WithWord(bytes, 32, new byte[32]), out _));
        Assert.Equal(SignatureCheck.OutOfRange, secp256k1.Recover(digest, WithWord(bytes, 0, Convert.FromHexString(Order)), out _));
        Assert.Equal(SignatureCheck.OutOfRange, secp256k1.Recover(digest, WithWord(bytes, 32, Convert.FromHexString(Order)), out _));
        Assert.Equal(SignatureCheck.OutOfRange, secp256k1.Recover(digest, WithWord(bytes, 0, Enumerable.Repeat((byte)0xFF, 32).ToArray()), out _));
    }

    [Theory]
    [MemberData(nameof(Secp256k1Implementations.Both), MemberType = typeof(Secp256k1Implementations))]
    public void Both_recovery_ids_are_accepted_in_either_v_convention(string implementation)
    {
        var secp256k1 = Secp256k1Implementations.Get(implementation);
        var (digest, signature, signer) = SignedSample(secp256k1, 3);
        var raw = With(signature.ToArray(), 64, (byte)signature.RecoveryId);

        Assert.Equal(SignatureCheck.Ok, secp256k1.Verify(digest, raw, signer));
        Assert.Equal(SignatureCheck.Ok, secp256k1.Verify(digest, signature, signer));
    }

    [Theory]
    [MemberData(nameof(Secp256k1Implementations.Both), MemberType = typeof(Secp256k1Implementations))]
    public void Signature_of_another_key_or_digest_is_a_wrong_signer(string implementation)
    {
        var secp256k1 = Secp256k1Implementations.Get(implementation);
        var (digest, signature, _) = SignedSample(secp256k1, 5);
        var (otherDigest, _, otherSigner) = SignedSample(secp256k1, 6);

        Assert.Equal(SignatureCheck.WrongSigner, secp256k1.Verify(digest, signature, otherSigner));
        Assert.NotEqual(SignatureCheck.Ok, secp256k1.Verify(otherDigest, signature, secp256k1.GetAddress(SampleKey(5))));
    }

    [Fact]
    public void An_r_that_is_not_on_the_curve_is_invalid_in_both_implementations_alike()
    {
        var native = Secp256k1Implementations.Get(Secp256k1Implementations.Native);
        var managed = Secp256k1Implementations.Get(Secp256k1Implementations.Managed);
        var digest = Keccak256.Hash("not on the curve"u8);
        var invalid = 0;
        for (byte x = 1; x <= 40; x++)
        {
            var r = new byte[32];
            r[31] = x;
            var signature = new Signature(r, SampleKey(1), 27);
            var nativeCheck = native.Recover(digest, signature, out var nativeSigner);
            Assert.Equal(nativeCheck, managed.Recover(digest, signature, out var managedSigner));
            Assert.Equal(nativeSigner, managedSigner);
            invalid += nativeCheck == SignatureCheck.Invalid ? 1 : 0;
        }

        Assert.InRange(invalid, 1, 39);
    }

    [Fact]
    public void Managed_fallback_gives_the_same_answers_as_native_for_random_keys_and_digests()
    {
        var native = Secp256k1Implementations.Get(Secp256k1Implementations.Native);
        var managed = Secp256k1Implementations.Get(Secp256k1Implementations.Managed);
        var random = new Random(20261121);
        var key = new byte[32];
        var digestBytes = new byte[32];
        for (var i = 0; i < 100; i++)
        {
            do
            {
                random.NextBytes(key);
            }
            while (!Secp256k1.IsValidPrivateKey(key));

            random.NextBytes(digestBytes);
            var digest = new Hash256(digestBytes);
            Assert.Equal(native.GetAddress(key), managed.GetAddress(key));
            var signature = native.Sign(digest, key);
            Assert.Equal(signature, managed.Sign(digest, key));

            // Also random, mostly meaningless signatures: the verdict and the recovered signer must agree.
            var noise = new byte[Signature.Size];
            random.NextBytes(noise);
            noise[64] = (byte)(27 + (noise[64] & 1));
            noise[32] &= 0x7F;
            Assert.Equal(native.Recover(digest, new Signature(noise), out var a), managed.Recover(digest, new Signature(noise), out var b));
            Assert.Equal(a, b);
        }
    }

    [Theory]
    [MemberData(nameof(Secp256k1Implementations.Both), MemberType = typeof(Secp256k1Implementations))]
    public void Generated_keys_are_valid_and_distinct(string implementation)
    {
        var secp256k1 = Secp256k1Implementations.Get(implementation);
        var first = new byte[32];
        var second = new byte[32];
        secp256k1.GeneratePrivateKey(first);
        secp256k1.GeneratePrivateKey(second);
        Assert.True(Secp256k1.IsValidPrivateKey(first));
        Assert.NotEqual(first, second);
        Assert.False(Secp256k1.IsValidPrivateKey(new byte[32]));
        Assert.False(Secp256k1.IsValidPrivateKey(Convert.FromHexString(Order)));
    }

    [Fact]
    public void The_factory_prefers_native_says_so_and_the_default_is_shared()
    {
        var log = new RecordingLogger();
        var native = Assert.IsType<NativeSecp256k1>(Secp256k1.Create(log));
        Assert.StartsWith(NativeSecp256k1.BundledLibraryName + " 0.6", native.Library, StringComparison.Ordinal); // the package's build, found beside the tests
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Information && l.Message.Contains($"native {native.Library} loaded", StringComparison.Ordinal));
        Assert.Same(Secp256k1.Default, Secp256k1.Default);
    }

    [Fact]
    public void The_bundled_library_and_the_system_library_agree_on_every_signature()
    {
        // Two builds of libsecp256k1 (the package's 0.6 and Debian's 0.2.0) must give the same answer on every input, or
        // two nodes would disagree on which transactions are signed: valid signatures by many keys, each with a flipped
        // recovery id, a changed digest, and random r and s (most of which recover no key or another key).
        var (bundled, bundledReason) = NativeSecp256k1.LoadBundled();
        var (system, systemReason) = NativeSecp256k1.Load(NativeSecp256k1.LibraryName);
        Assert.True(bundled is not null, bundledReason);
        Assert.True(system is not null, systemReason);

        var random = new Random(20261205);
        var key = new byte[32];
        var digestBytes = new byte[32];
        var compact = new byte[64];
        var agreedOk = 0;
        for (var i = 0; i < 600; i++)
        {
            random.NextBytes(digestBytes);
            var digest = new Hash256(digestBytes);
            Signature signature;
            if (i % 3 == 2)
            {
                random.NextBytes(compact);
                compact[32] &= 0x7F; // s below n/2, so the arithmetic runs rather than the form check
                signature = Signature.FromCompact(compact, random.Next(2));
            }
            else
            {
                do
                {
                    random.NextBytes(key);
                }
                while (!Secp256k1.IsValidPrivateKey(key));

                signature = (i % 2 == 0 ? bundled : system).Sign(digest, key);
                Assert.Equal(signature, (i % 2 == 0 ? system : bundled).Sign(digest, key)); // RFC 6979: the same nonce
                if (i % 3 == 1)
                {
                    signature = Signature.FromCompact(signature.Compact, 1 - signature.RecoveryId);
                }
            }

            foreach (var checkedDigest in new[] { digest, new Hash256(SHA256.HashData(digestBytes)) })
            {
                var fromBundled = bundled.Recover(checkedDigest, signature, out var bundledSigner);
                var fromSystem = system.Recover(checkedDigest, signature, out var systemSigner);
                Assert.Equal(fromSystem, fromBundled);
                Assert.Equal(systemSigner, bundledSigner);
                agreedOk += fromBundled == SignatureCheck.Ok ? 1 : 0;
            }
        }

        Assert.InRange(agreedOk, 500, 1200); // most inputs recover some key: the comparison was not of failures alone
    }

    [Fact]
    public void Without_the_native_library_the_factory_falls_back_to_managed_with_a_warning()
    {
        var log = new RecordingLogger();
        var secp256k1 = Secp256k1.Create(log, "libsecp256k1-missing.so.0");

        Assert.Same(ManagedSecp256k1.Instance, secp256k1);
        var line = Assert.Single(log.Lines);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("libsecp256k1-missing.so.0 not available", line.Message, StringComparison.Ordinal);
        Assert.Contains("falling back to the managed BouncyCastle implementation", line.Message, StringComparison.Ordinal);
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Lines.Add((logLevel, formatter(state, exception)));
    }

    [Fact]
    public void Signature_text_round_trips_and_rejects_wrong_lengths()
    {
        var text = "0x" + new string('1', 128) + "1b";
        var signature = Signature.Parse(text);
        Assert.Equal(text, signature.ToString());
        Assert.Equal(27, signature.V);
        Assert.Equal(0, signature.RecoveryId);
        Assert.False(Signature.TryParse("0x1234", out _));
        Assert.Throws<ArgumentException>(() => new Signature(new byte[64]));
    }

    internal static byte[] SampleKey(int seed)
    {
        var key = new byte[32];
        key[31] = (byte)seed;
        key[0] = 0x42;
        return key;
    }

    internal static (Hash256 Digest, Signature Signature, Address Signer) SignedSample(ISecp256k1 secp256k1, int seed)
    {
        var key = SampleKey(seed);
        var digest = Keccak256.Hash(BitConverter.GetBytes(seed));
        return (digest, secp256k1.Sign(digest, key), secp256k1.GetAddress(key));
    }

    private static byte[] Pad(ReadOnlySpan<byte> value)
    {
        var padded = new byte[32];
        value.CopyTo(padded.AsSpan(32 - value.Length));
        return padded;
    }

    private static Signature With(byte[] bytes, int index, byte value)
    {
        var copy = (byte[])bytes.Clone();
        copy[index] = value;
        return new Signature(copy);
    }

    private static Signature WithWord(byte[] bytes, int offset, byte[] word)
    {
        var copy = (byte[])bytes.Clone();
        word.CopyTo(copy, offset);
        return new Signature(copy);
    }
}
