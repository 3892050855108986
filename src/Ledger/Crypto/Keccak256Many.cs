using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SmartCity.Ledger.Crypto;

/// <summary>
/// Keccak-256 of many independent messages at once: several Keccak-f[1600] states side by side, one in each 64-bit
/// lane of 25 vector registers, so one vector instruction advances all of them. The state tree hashes thousands of
/// independent nodes per block (every node of one level is independent of the others); hashed side by side they cost
/// a fraction of hashing them one by one. Eight lanes with AVX-512 (<c>vpternlogq</c>, <c>vprolq</c>), four with AVX2
/// (a rotation is two shifts and an or), one at a time with <see cref="Keccak256"/> on any other machine. Answers are
/// byte-identical to <see cref="Keccak256"/>'s.
/// </summary>
public static class Keccak256Many
{
    private const int Rate = 136;
    private const int RateWords = Rate / 8;

    /// <summary>Messages this machine hashes side by side: 8 (AVX-512F), 4 (AVX2) or 1.</summary>
    public static int Lanes => Avx512Lanes.IsSupported ? Avx512Lanes.Count : Avx2Lanes.IsSupported ? Avx2Lanes.Count : 1;

    /// <summary>Whether this machine hashes several messages side by side; otherwise <see cref="HashMany"/> hashes one at a time.</summary>
    public static bool IsAccelerated => Lanes > 1;

    /// <summary>
    /// Hashes message <c>i</c> (<paramref name="data"/>[<paramref name="starts"/>[i] ..] of <paramref name="lengths"/>[i] bytes)
    /// into <paramref name="outputs"/>[i]; messages may have any lengths.
    /// </summary>
    public static void HashMany(ReadOnlySpan<byte> data, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, Span<Hash256> outputs)
    {
        if (Avx512Lanes.IsSupported)
        {
            HashMany<Avx512Lanes, Vector512<ulong>>(data, starts, lengths, outputs);
        }
        else if (Avx2Lanes.IsSupported)
        {
            HashMany<Avx2Lanes, Vector256<ulong>>(data, starts, lengths, outputs);
        }
        else
        {
            CheckShapes(starts, lengths, outputs);
            HashOneByOne(data, starts, lengths, outputs, 0);
        }
    }

    /// <summary>The same with a chosen lane width (the tests run each width the machine supports).</summary>
    internal static void HashMany<TLanes, TVector>(ReadOnlySpan<byte> data, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, Span<Hash256> outputs)
        where TLanes : struct, IKeccakLanes<TVector>
        where TVector : unmanaged
    {
        CheckShapes(starts, lengths, outputs);
        if (!TLanes.IsSupported)
        {
            throw new PlatformNotSupportedException($"{typeof(TLanes).Name} needs instructions this machine does not have");
        }

        // A group of one message is cheaper one at a time: the last message of an odd count goes that way.
        var done = 0;
        for (; starts.Length - done >= 2; done += TLanes.Count)
        {
            var count = Math.Min(TLanes.Count, starts.Length - done);
            HashGroup<TLanes, TVector>(data, starts.Slice(done, count), lengths.Slice(done, count), outputs.Slice(done, count));
        }

        HashOneByOne(data, starts, lengths, outputs, done);
    }

    private static void CheckShapes(ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, Span<Hash256> outputs)
    {
        if (starts.Length != lengths.Length || outputs.Length < starts.Length)
        {
            throw new ArgumentException("one start, one length and one output per message");
        }
    }

    private static void HashOneByOne(ReadOnlySpan<byte> data, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, Span<Hash256> outputs, int from)
    {
        for (var i = from; i < starts.Length; i++)
        {
            outputs[i] = Keccak256.Hash(data.Slice(starts[i], lengths[i]));
        }
    }

    /// <summary>
    /// Up to <c>TLanes.Count</c> messages through one set of states; a lane with no message left keeps permuting unread.
    /// Each lane's block is laid out padded in its own row of <c>blocks</c> (the message copied in, Keccak's 0x01 … 0x80
    /// after it in its last block), and word w of every row becomes one vector; the digests are read back as the
    /// outputs' own words (a <see cref="Hash256"/> is its 32 bytes, and these paths run on x86, which is little-endian).
    /// </summary>
    [SkipLocalsInit]
    private static void HashGroup<TLanes, TVector>(ReadOnlySpan<byte> data, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, Span<Hash256> outputs)
        where TLanes : struct, IKeccakLanes<TVector>
        where TVector : unmanaged
    {
        var lanes = TLanes.Count;
        Span<TVector> state = stackalloc TVector[25];
        state.Clear();
        Span<ulong> blocks = stackalloc ulong[RateWords * lanes]; // lane l's block at [l * RateWords ..]
        var blockBytes = MemoryMarshal.AsBytes(blocks);
        Span<ulong> digest = stackalloc ulong[4 * lanes]; // word w of lane l at [w * lanes + l]
        var outputWords = MemoryMarshal.Cast<Hash256, ulong>(outputs);

        var rounds = 0;
        for (var lane = 0; lane < starts.Length; lane++)
        {
            rounds = Math.Max(rounds, (lengths[lane] / Rate) + 1);
        }

        for (var block = 0; block < rounds; block++)
        {
            blockBytes.Clear();
            var offset = block * Rate;
            for (var lane = 0; lane < starts.Length; lane++)
            {
                var left = lengths[lane] - offset;
                if (left < 0)
                {
                    continue; // this lane's message ended in an earlier block
                }

                var row = blockBytes.Slice(lane * Rate, Rate);
                var take = Math.Min(Rate, left);
                data.Slice(starts[lane] + offset, take).CopyTo(row);
                if (take < Rate)
                {
                    row[take] ^= 0x01; // the message's last block
                    row[Rate - 1] ^= 0x80;
                }
            }

            for (var w = 0; w < RateWords; w++)
            {
                state[w] = TLanes.Xor(state[w], TLanes.Gather(blocks, w, RateWords));
            }

            Permute<TLanes, TVector>(state);

            for (var w = 0; w < 4; w++)
            {
                TLanes.CopyTo(state[w], digest[(w * lanes)..]);
            }

            for (var lane = 0; lane < starts.Length; lane++)
            {
                if (lengths[lane] / Rate == block) // this lane's last block
                {
                    for (var w = 0; w < 4; w++)
                    {
                        outputWords[(lane * 4) + w] = digest[(w * lanes) + lane];
                    }
                }
            }
        }
    }

    /// <summary>
    /// Keccak-f[1600] on <c>TLanes.Count</c> states: the scalar rounds of <see cref="Keccak256"/> line for line (the
    /// same rotation offsets and lane moves; a duplicate by design, so each can be read against FIPS 202 §3.2), each
    /// word a vector.
    /// </summary>
    [SkipLocalsInit]
    private static void Permute<TLanes, TVector>(Span<TVector> s)
        where TLanes : struct, IKeccakLanes<TVector>
        where TVector : unmanaged
    {
        TVector a00 = s[0], a01 = s[1], a02 = s[2], a03 = s[3], a04 = s[4];
        TVector a05 = s[5], a06 = s[6], a07 = s[7], a08 = s[8], a09 = s[9];
        TVector a10 = s[10], a11 = s[11], a12 = s[12], a13 = s[13], a14 = s[14];
        TVector a15 = s[15], a16 = s[16], a17 = s[17], a18 = s[18], a19 = s[19];
        TVector a20 = s[20], a21 = s[21], a22 = s[22], a23 = s[23], a24 = s[24];
        var rc = Keccak256.RoundConstants;

        for (var round = 0; round < 24; round++)
        {
            // θ
            var c0 = TLanes.Parity(a00, a05, a10, a15, a20);
            var c1 = TLanes.Parity(a01, a06, a11, a16, a21);
            var c2 = TLanes.Parity(a02, a07, a12, a17, a22);
            var c3 = TLanes.Parity(a03, a08, a13, a18, a23);
            var c4 = TLanes.Parity(a04, a09, a14, a19, a24);
            var d0 = TLanes.Xor(c4, TLanes.RotateLeft(c1, 1));
            var d1 = TLanes.Xor(c0, TLanes.RotateLeft(c2, 1));
            var d2 = TLanes.Xor(c1, TLanes.RotateLeft(c3, 1));
            var d3 = TLanes.Xor(c2, TLanes.RotateLeft(c4, 1));
            var d4 = TLanes.Xor(c3, TLanes.RotateLeft(c0, 1));

            // ρ and π: b[y, 2x+3y] = rot(a[x, y] ^ d[x], r[x, y])
            var b00 = TLanes.Xor(a00, d0);
            var b10 = TLanes.RotateLeft(TLanes.Xor(a01, d1), 1);
            var b20 = TLanes.RotateLeft(TLanes.Xor(a02, d2), 62);
            var b05 = TLanes.RotateLeft(TLanes.Xor(a03, d3), 28);
            var b15 = TLanes.RotateLeft(TLanes.Xor(a04, d4), 27);
            var b16 = TLanes.RotateLeft(TLanes.Xor(a05, d0), 36);
            var b01 = TLanes.RotateLeft(TLanes.Xor(a06, d1), 44);
            var b11 = TLanes.RotateLeft(TLanes.Xor(a07, d2), 6);
            var b21 = TLanes.RotateLeft(TLanes.Xor(a08, d3), 55);
            var b06 = TLanes.RotateLeft(TLanes.Xor(a09, d4), 20);
            var b07 = TLanes.RotateLeft(TLanes.Xor(a10, d0), 3);
            var b17 = TLanes.RotateLeft(TLanes.Xor(a11, d1), 10);
            var b02 = TLanes.RotateLeft(TLanes.Xor(a12, d2), 43);
            var b12 = TLanes.RotateLeft(TLanes.Xor(a13, d3), 25);
            var b22 = TLanes.RotateLeft(TLanes.Xor(a14, d4), 39);
            var b23 = TLanes.RotateLeft(TLanes.Xor(a15, d0), 41);
            var b08 = TLanes.RotateLeft(TLanes.Xor(a16, d1), 45);
            var b18 = TLanes.RotateLeft(TLanes.Xor(a17, d2), 15);
            var b03 = TLanes.RotateLeft(TLanes.Xor(a18, d3), 21);
            var b13 = TLanes.RotateLeft(TLanes.Xor(a19, d4), 8);
            var b14 = TLanes.RotateLeft(TLanes.Xor(a20, d0), 18);
            var b24 = TLanes.RotateLeft(TLanes.Xor(a21, d1), 2);
            var b09 = TLanes.RotateLeft(TLanes.Xor(a22, d2), 61);
            var b19 = TLanes.RotateLeft(TLanes.Xor(a23, d3), 56);
            var b04 = TLanes.RotateLeft(TLanes.Xor(a24, d4), 14);

            // χ and ι
            a00 = TLanes.Xor(TLanes.Chi(b00, b01, b02), TLanes.Broadcast(rc[round]));
            a01 = TLanes.Chi(b01, b02, b03);
            a02 = TLanes.Chi(b02, b03, b04);
            a03 = TLanes.Chi(b03, b04, b00);
            a04 = TLanes.Chi(b04, b00, b01);
            a05 = TLanes.Chi(b05, b06, b07);
            a06 = TLanes.Chi(b06, b07, b08);
            a07 = TLanes.Chi(b07, b08, b09);
            a08 = TLanes.Chi(b08, b09, b05);
            a09 = TLanes.Chi(b09, b05, b06);
            a10 = TLanes.Chi(b10, b11, b12);
            a11 = TLanes.Chi(b11, b12, b13);
            a12 = TLanes.Chi(b12, b13, b14);
            a13 = TLanes.Chi(b13, b14, b10);
            a14 = TLanes.Chi(b14, b10, b11);
            a15 = TLanes.Chi(b15, b16, b17);
            a16 = TLanes.Chi(b16, b17, b18);
            a17 = TLanes.Chi(b17, b18, b19);
            a18 = TLanes.Chi(b18, b19, b15);
            a19 = TLanes.Chi(b19, b15, b16);
            a20 = TLanes.Chi(b20, b21, b22);
            a21 = TLanes.Chi(b21, b22, b23);
            a22 = TLanes.Chi(b22, b23, b24);
            a23 = TLanes.Chi(b23, b24, b20);
            a24 = TLanes.Chi(b24, b20, b21);
        }

        s[0] = a00; s[1] = a01; s[2] = a02; s[3] = a03; s[4] = a04;
        s[5] = a05; s[6] = a06; s[7] = a07; s[8] = a08; s[9] = a09;
        s[10] = a10; s[11] = a11; s[12] = a12; s[13] = a13; s[14] = a14;
        s[15] = a15; s[16] = a16; s[17] = a17; s[18] = a18; s[19] = a19;
        s[20] = a20; s[21] = a21; s[22] = a22; s[23] = a23; s[24] = a24;
    }
}

/// <summary>The word operations Keccak-f[1600] needs, on a vector of one 64-bit word per lane (one state per lane).</summary>
internal interface IKeccakLanes<TVector>
    where TVector : unmanaged
{
    static abstract bool IsSupported { get; }

    static abstract int Count { get; }

    /// <summary>One vector whose lane i is <paramref name="words"/>[<paramref name="first"/> + i × <paramref name="stride"/>].</summary>
    static abstract TVector Gather(ReadOnlySpan<ulong> words, int first, int stride);

    static abstract TVector Broadcast(ulong word);

    static abstract void CopyTo(TVector vector, Span<ulong> words);

    static abstract TVector Xor(TVector a, TVector b);

    /// <summary>θ's column parity: a ^ b ^ c ^ d ^ e.</summary>
    static abstract TVector Parity(TVector a, TVector b, TVector c, TVector d, TVector e);

    /// <summary>χ: a ^ (~b &amp; c).</summary>
    static abstract TVector Chi(TVector a, TVector b, TVector c);

    static abstract TVector RotateLeft(TVector value, [ConstantExpected(Min = 1, Max = 63)] byte count);
}

/// <summary>Eight lanes in AVX-512 registers: three-input logic in one <c>vpternlogq</c>, rotations in one <c>vprolq</c>.</summary>
internal readonly struct Avx512Lanes : IKeccakLanes<Vector512<ulong>>
{
    private const byte Xor3 = 0x96;
    private const byte ChiTable = 0xD2; // a ^ (~b & c)

    public static bool IsSupported => Avx512F.IsSupported;

    public static int Count => Vector512<ulong>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Gather(ReadOnlySpan<ulong> words, int first, int stride) => Vector512.Create(
        words[first], words[first + stride], words[first + (2 * stride)], words[first + (3 * stride)],
        words[first + (4 * stride)], words[first + (5 * stride)], words[first + (6 * stride)], words[first + (7 * stride)]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Broadcast(ulong word) => Vector512.Create(word);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyTo(Vector512<ulong> vector, Span<ulong> words) => vector.CopyTo(words);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Xor(Vector512<ulong> a, Vector512<ulong> b) => a ^ b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Parity(Vector512<ulong> a, Vector512<ulong> b, Vector512<ulong> c, Vector512<ulong> d, Vector512<ulong> e) =>
        Avx512F.TernaryLogic(Avx512F.TernaryLogic(a, b, c, Xor3), d, e, Xor3);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Chi(Vector512<ulong> a, Vector512<ulong> b, Vector512<ulong> c) => Avx512F.TernaryLogic(a, b, c, ChiTable);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> RotateLeft(Vector512<ulong> value, [ConstantExpected(Min = 1, Max = 63)] byte count) => Avx512F.RotateLeft(value, count);
}

/// <summary>Four lanes in AVX2 registers: a rotation is two shifts and an or, χ an and-not and a xor.</summary>
internal readonly struct Avx2Lanes : IKeccakLanes<Vector256<ulong>>
{
    public static bool IsSupported => Avx2.IsSupported;

    public static int Count => Vector256<ulong>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Gather(ReadOnlySpan<ulong> words, int first, int stride) =>
        Vector256.Create(words[first], words[first + stride], words[first + (2 * stride)], words[first + (3 * stride)]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Broadcast(ulong word) => Vector256.Create(word);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyTo(Vector256<ulong> vector, Span<ulong> words) => vector.CopyTo(words);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Xor(Vector256<ulong> a, Vector256<ulong> b) => a ^ b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Parity(Vector256<ulong> a, Vector256<ulong> b, Vector256<ulong> c, Vector256<ulong> d, Vector256<ulong> e) => a ^ b ^ c ^ d ^ e;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Chi(Vector256<ulong> a, Vector256<ulong> b, Vector256<ulong> c) => a ^ Vector256.AndNot(c, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> RotateLeft(Vector256<ulong> value, [ConstantExpected(Min = 1, Max = 63)] byte count) =>
        Vector256.ShiftLeft(value, count) | Vector256.ShiftRightLogical(value, 64 - count);
}
