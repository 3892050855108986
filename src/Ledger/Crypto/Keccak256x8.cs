using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SmartCity.Ledger.Crypto;

/// <summary>
/// Keccak-256 of many independent messages at once: eight Keccak-f[1600] states side by side, one in each 64-bit
/// lane of 25 AVX-512 registers, so one vector instruction advances all eight. The state tree hashes thousands of
/// independent nodes per block (every node of one level is independent of the others); hashed eight at a time they
/// cost a fraction of hashing them one by one. Answers are byte-identical to <see cref="Keccak256"/>, which serves any
/// machine without AVX-512.
/// </summary>
public static class Keccak256x8
{
    /// <summary>Messages hashed side by side.</summary>
    public const int Lanes = 8;

    private const int Rate = 136;
    private const int RateWords = Rate / 8;
    private const byte Xor3 = 0x96;
    private const byte Chi = 0xD2; // a ^ (~b & c)

    /// <summary>Whether this machine runs the eight-lane permutation (AVX-512F); otherwise <see cref="HashMany"/> hashes one message at a time.</summary>
    public static bool IsAccelerated => Avx512F.IsSupported;

    /// <summary>
    /// Hashes message <c>i</c> (<paramref name="data"/>[<paramref name="starts"/>[i] ..] of <paramref name="lengths"/>[i] bytes)
    /// into <paramref name="outputs"/>[i]; messages may have any lengths.
    /// </summary>
    public static void HashMany(ReadOnlySpan<byte> data, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, Span<Hash256> outputs)
    {
        if (starts.Length != lengths.Length || outputs.Length < starts.Length)
        {
            throw new ArgumentException("one start, one length and one output per message");
        }

        var done = 0;
        if (IsAccelerated)
        {
            for (; starts.Length - done >= 2; done += Lanes)
            {
                var count = Math.Min(Lanes, starts.Length - done);
                HashGroup(data, starts.Slice(done, count), lengths.Slice(done, count), outputs.Slice(done, count));
            }
        }

        for (; done < starts.Length; done++)
        {
            outputs[done] = Keccak256.Hash(data.Slice(starts[done], lengths[done]));
        }
    }

    /// <summary>Up to eight messages through one set of eight states; a lane with no message left keeps permuting unread.</summary>
    [SkipLocalsInit]
    private static void HashGroup(ReadOnlySpan<byte> data, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, Span<Hash256> outputs)
    {
        Span<Vector512<ulong>> state = stackalloc Vector512<ulong>[25];
        state.Clear();
        Span<ulong> words = stackalloc ulong[RateWords * Lanes]; // word w of lane l at [w * Lanes + l]
        Span<byte> last = stackalloc byte[Rate];
        Span<ulong> digest = stackalloc ulong[4 * Lanes];
        Span<byte> hash = stackalloc byte[Hash256.Size];

        var blocks = 0;
        for (var lane = 0; lane < starts.Length; lane++)
        {
            blocks = Math.Max(blocks, (lengths[lane] / Rate) + 1);
        }

        for (var block = 0; block < blocks; block++)
        {
            words.Clear();
            for (var lane = 0; lane < starts.Length; lane++)
            {
                var length = lengths[lane];
                var offset = block * Rate;
                if (offset > length)
                {
                    continue; // this lane's message ended in an earlier block
                }

                scoped ReadOnlySpan<byte> input;
                if (length - offset >= Rate)
                {
                    input = data.Slice(starts[lane] + offset, Rate);
                }
                else
                {
                    // The message's last block: the rest of it, then Keccak's padding 0x01 … 0x80.
                    last.Clear();
                    data.Slice(starts[lane] + offset, length - offset).CopyTo(last);
                    last[length - offset] ^= 0x01;
                    last[Rate - 1] ^= 0x80;
                    input = last;
                }

                for (var w = 0; w < RateWords; w++)
                {
                    words[(w * Lanes) + lane] = BinaryPrimitives.ReadUInt64LittleEndian(input[(w * 8)..]);
                }
            }

            for (var w = 0; w < RateWords; w++)
            {
                state[w] ^= Vector512.Create(words.Slice(w * Lanes, Lanes));
            }

            Permute(state);

            for (var w = 0; w < 4; w++)
            {
                state[w].CopyTo(digest[(w * Lanes)..]);
            }

            for (var lane = 0; lane < starts.Length; lane++)
            {
                if (lengths[lane] / Rate != block)
                {
                    continue; // not this lane's last block
                }

                for (var w = 0; w < 4; w++)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(hash[(w * 8)..], digest[(w * Lanes) + lane]);
                }

                outputs[lane] = new Hash256(hash);
            }
        }
    }

    /// <summary>
    /// Keccak-f[1600] on eight states: the scalar rounds of <see cref="Keccak256"/> line for line (the same rotation
    /// offsets and lane moves; a duplicate by design, so each can be read against FIPS 202 §3.2), each word a vector.
    /// </summary>
    [SkipLocalsInit]
    private static void Permute(Span<Vector512<ulong>> s)
    {
        Vector512<ulong> a00 = s[0], a01 = s[1], a02 = s[2], a03 = s[3], a04 = s[4];
        Vector512<ulong> a05 = s[5], a06 = s[6], a07 = s[7], a08 = s[8], a09 = s[9];
        Vector512<ulong> a10 = s[10], a11 = s[11], a12 = s[12], a13 = s[13], a14 = s[14];
        Vector512<ulong> a15 = s[15], a16 = s[16], a17 = s[17], a18 = s[18], a19 = s[19];
        Vector512<ulong> a20 = s[20], a21 = s[21], a22 = s[22], a23 = s[23], a24 = s[24];
        var rc = Keccak256.RoundConstants;

        for (var round = 0; round < 24; round++)
        {
            // θ
            var c0 = Avx512F.TernaryLogic(Avx512F.TernaryLogic(a00, a05, a10, Xor3), a15, a20, Xor3);
            var c1 = Avx512F.TernaryLogic(Avx512F.TernaryLogic(a01, a06, a11, Xor3), a16, a21, Xor3);
            var c2 = Avx512F.TernaryLogic(Avx512F.TernaryLogic(a02, a07, a12, Xor3), a17, a22, Xor3);
            var c3 = Avx512F.TernaryLogic(Avx512F.TernaryLogic(a03, a08, a13, Xor3), a18, a23, Xor3);
            var c4 = Avx512F.TernaryLogic(Avx512F.TernaryLogic(a04, a09, a14, Xor3), a19, a24, Xor3);
            var d0 = c4 ^ Avx512F.RotateLeft(c1, 1);
            var d1 = c0 ^ Avx512F.RotateLeft(c2, 1);
            var d2 = c1 ^ Avx512F.RotateLeft(c3, 1);
            var d3 = c2 ^ Avx512F.RotateLeft(c4, 1);
            var d4 = c3 ^ Avx512F.RotateLeft(c0, 1);

            // ρ and π: b[y, 2x+3y] = rot(a[x, y] ^ d[x], r[x, y])
            var b00 = a00 ^ d0;
            var b10 = Avx512F.RotateLeft(a01 ^ d1, 1);
            var b20 = Avx512F.RotateLeft(a02 ^ d2, 62);
            var b05 = Avx512F.RotateLeft(a03 ^ d3, 28);
            var b15 = Avx512F.RotateLeft(a04 ^ d4, 27);
            var b16 = Avx512F.RotateLeft(a05 ^ d0, 36);
            var b01 = Avx512F.RotateLeft(a06 ^ d1, 44);
            var b11 = Avx512F.RotateLeft(a07 ^ d2, 6);
            var b21 = Avx512F.RotateLeft(a08 ^ d3, 55);
            var b06 = Avx512F.RotateLeft(a09 ^ d4, 20);
            var b07 = Avx512F.RotateLeft(a10 ^ d0, 3);
            var b17 = Avx512F.RotateLeft(a11 ^ d1, 10);
            var b02 = Avx512F.RotateLeft(a12 ^ d2, 43);
            var b12 = Avx512F.RotateLeft(a13 ^ d3, 25);
            var b22 = Avx512F.RotateLeft(a14 ^ d4, 39);
            var b23 = Avx512F.RotateLeft(a15 ^ d0, 41);
            var b08 = Avx512F.RotateLeft(a16 ^ d1, 45);
            var b18 = Avx512F.RotateLeft(a17 ^ d2, 15);
            var b03 = Avx512F.RotateLeft(a18 ^ d3, 21);
            var b13 = Avx512F.RotateLeft(a19 ^ d4, 8);
            var b14 = Avx512F.RotateLeft(a20 ^ d0, 18);
            var b24 = Avx512F.RotateLeft(a21 ^ d1, 2);
            var b09 = Avx512F.RotateLeft(a22 ^ d2, 61);
            var b19 = Avx512F.RotateLeft(a23 ^ d3, 56);
            var b04 = Avx512F.RotateLeft(a24 ^ d4, 14);

            // χ and ι
            a00 = Avx512F.TernaryLogic(b00, b01, b02, Chi) ^ Vector512.Create(rc[round]);
            a01 = Avx512F.TernaryLogic(b01, b02, b03, Chi);
            a02 = Avx512F.TernaryLogic(b02, b03, b04, Chi);
            a03 = Avx512F.TernaryLogic(b03, b04, b00, Chi);
            a04 = Avx512F.TernaryLogic(b04, b00, b01, Chi);
            a05 = Avx512F.TernaryLogic(b05, b06, b07, Chi);
            a06 = Avx512F.TernaryLogic(b06, b07, b08, Chi);
            a07 = Avx512F.TernaryLogic(b07, b08, b09, Chi);
            a08 = Avx512F.TernaryLogic(b08, b09, b05, Chi);
            a09 = Avx512F.TernaryLogic(b09, b05, b06, Chi);
            a10 = Avx512F.TernaryLogic(b10, b11, b12, Chi);
            a11 = Avx512F.TernaryLogic(b11, b12, b13, Chi);
            a12 = Avx512F.TernaryLogic(b12, b13, b14, Chi);
            a13 = Avx512F.TernaryLogic(b13, b14, b10, Chi);
            a14 = Avx512F.TernaryLogic(b14, b10, b11, Chi);
            a15 = Avx512F.TernaryLogic(b15, b16, b17, Chi);
            a16 = Avx512F.TernaryLogic(b16, b17, b18, Chi);
            a17 = Avx512F.TernaryLogic(b17, b18, b19, Chi);
            a18 = Avx512F.TernaryLogic(b18, b19, b15, Chi);
            a19 = Avx512F.TernaryLogic(b19, b15, b16, Chi);
            a20 = Avx512F.TernaryLogic(b20, b21, b22, Chi);
            a21 = Avx512F.TernaryLogic(b21, b22, b23, Chi);
            a22 = Avx512F.TernaryLogic(b22, b23, b24, Chi);
            a23 = Avx512F.TernaryLogic(b23, b24, b20, Chi);
            a24 = Avx512F.TernaryLogic(b24, b20, b21, Chi);
        }

        s[0] = a00; s[1] = a01; s[2] = a02; s[3] = a03; s[4] = a04;
        s[5] = a05; s[6] = a06; s[7] = a07; s[8] = a08; s[9] = a09;
        s[10] = a10; s[11] = a11; s[12] = a12; s[13] = a13; s[14] = a14;
        s[15] = a15; s[16] = a16; s[17] = a17; s[18] = a18; s[19] = a19;
        s[20] = a20; s[21] = a21; s[22] = a22; s[23] = a23; s[24] = a24;
    }
}
