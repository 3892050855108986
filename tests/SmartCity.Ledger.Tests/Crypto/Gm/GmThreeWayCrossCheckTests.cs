using System.Diagnostics;
using Org.BouncyCastle.Asn1.GM;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Pkcs;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Gm;

namespace SmartCity.Ledger.Tests.Crypto.Gm;

/// <summary>
/// The project, OpenSSL's command line (<c>openssl dgst -sm3</c>, <c>openssl pkeyutl</c> with SM2, SM3 and
/// <c>-pkeyopt distid:</c>) and BouncyCastle's SM2Signer/SM3Digest used directly agree on random data: every SM3, and
/// every signature made by one of them verifies under the other two (a tampered one under none). scripts/test.sh
/// installs the <c>openssl</c> package. Cost: about 8 cases × 8 openssl runs, a few seconds.
/// </summary>
public sealed class GmThreeWayCrossCheckTests : IDisposable
{
    private const int Cases = 8;
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-gm-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Project_openssl_and_bouncycastle_agree_on_sm3_of_random_data()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        for (var i = 0; i < Cases; i++)
        {
            var data = new byte[random.Next(0, 300)];
            random.NextBytes(data);
            var file = Path.Combine(_directory, $"data{i}");
            File.WriteAllBytes(file, data);

            var bouncyCastle = new byte[32];
            var digest = new SM3Digest();
            digest.BlockUpdate(data);
            digest.DoFinal(bouncyCastle);
            var openssl = OpenSsl(["dgst", "-sm3", "-binary", file], out var output);

            Assert.True(openssl == 0, $"openssl dgst -sm3 failed (seed {seed})");
            Assert.Equal(bouncyCastle, output);
            Assert.Equal(bouncyCastle, Sm3.Hash(data).Bytes.ToArray());
        }
    }

    [Fact]
    public void Signatures_by_each_of_project_openssl_and_bouncycastle_verify_under_the_other_two_with_the_default_identifier()
    {
        var id = Sm2.DefaultDistinguishingId;
        var native = Sm2Implementations.Get(Sm2Implementations.Native);
        var managed = Sm2Implementations.Get(Sm2Implementations.Managed);
        for (var i = 0; i < Cases; i++)
        {
            var key = new byte[32];
            Sm2.GeneratePrivateKey(key);
            var publicKey = new byte[64];
            managed.GetPublicKey(key, publicKey);
            var keyFile = WriteKeys(i, key, publicKey, out var publicFile);
            var digest = new Hash256(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            var message = Path.Combine(_directory, $"m{i}");
            File.WriteAllBytes(message, digest.ToArray());

            // OpenSSL signs; the project (both paths) and BouncyCastle verify.
            var opensslSignature = Path.Combine(_directory, $"openssl{i}.der");
            Assert.Equal(0, OpenSsl(["pkeyutl", "-sign", "-inkey", keyFile, "-rawin", "-digest", "sm3", "-in", message, "-out", opensslSignature, "-pkeyopt", $"distid:{id}"], out _));
            var fromOpenSsl = Signature.Sm2(FromDer(File.ReadAllBytes(opensslSignature)), publicKey);
            Assert.Equal(SignatureCheck.Ok, native.Verify(digest, fromOpenSsl, Sm2.AddressOf(publicKey)));
            Assert.Equal(SignatureCheck.Ok, managed.Verify(digest, fromOpenSsl, Sm2.AddressOf(publicKey)));
            Assert.True(BouncyCastleVerify(digest, fromOpenSsl, id));

            // The project signs; OpenSSL and BouncyCastle verify.
            var ours = (i % 2 == 0 ? native : managed).Sign(digest, key);
            Assert.True(OpenSslVerify(publicFile, message, ours, id, $"ours{i}"));
            Assert.True(BouncyCastleVerify(digest, ours, id));

            // BouncyCastle signs; OpenSSL and the project verify.
            var bouncyCastle = BouncyCastleSign(digest, key, publicKey, id);
            Assert.True(OpenSslVerify(publicFile, message, bouncyCastle, id, $"bc{i}"));
            Assert.Equal(SignatureCheck.Ok, native.Recover(digest, bouncyCastle, out var signer));
            Assert.Equal(Sm2.AddressOf(publicKey), signer);

            // A tampered signature verifies nowhere.
            var tampered = ours.ToArray();
            tampered[10] ^= 0x40;
            Assert.True(Signature.TryRead(tampered, out var bad));
            Assert.False(OpenSslVerify(publicFile, message, bad, id, $"bad{i}"));
            Assert.False(BouncyCastleVerify(digest, bad, id));
            Assert.Equal(SignatureCheck.Invalid, native.Recover(digest, bad, out _));
        }
    }

    [Fact]
    public void Openssl_rejects_a_project_signature_checked_under_another_identifier()
    {
        var key = new byte[32];
        Sm2.GeneratePrivateKey(key);
        var publicKey = new byte[64];
        var sm2 = Sm2Implementations.Get(Sm2Implementations.Native, "BJ-TJ-HB");
        sm2.GetPublicKey(key, publicKey);
        WriteKeys(99, key, publicKey, out var publicFile);
        var digest = Sm3.Hash("identifier"u8);
        var message = Path.Combine(_directory, "m-id");
        File.WriteAllBytes(message, digest.ToArray());
        var signature = sm2.Sign(digest, key);

        Assert.True(OpenSslVerify(publicFile, message, signature, "BJ-TJ-HB", "id-ok"));
        Assert.False(OpenSslVerify(publicFile, message, signature, Sm2.DefaultDistinguishingId, "id-default"));
    }

    private string WriteKeys(int i, byte[] key, byte[] publicKey, out string publicFile)
    {
        var curve = GMNamedCurves.GetByOid(GMObjectIdentifiers.sm2p256v1);
        var domain = new ECNamedDomainParameters(GMObjectIdentifiers.sm2p256v1, curve);
        var pkcs8 = PrivateKeyInfoFactory.CreatePrivateKeyInfo(new ECPrivateKeyParameters(new BigInteger(1, key), domain)).GetDerEncoded();
        var keyFile = Path.Combine(_directory, $"k{i}.pem");
        File.WriteAllText(keyFile, Pem("PRIVATE KEY", pkcs8));
        byte[] spki = [0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82, 0x2D, 0x03, 0x42, 0x00, 0x04, .. publicKey];
        publicFile = Path.Combine(_directory, $"p{i}.pem");
        File.WriteAllText(publicFile, Pem("PUBLIC KEY", spki));
        return keyFile;
    }

    private bool OpenSslVerify(string publicFile, string message, Signature signature, string id, string name)
    {
        var file = Path.Combine(_directory, name + ".der");
        var der = new byte[72];
        var length = NativeSm2.EncodeDer(signature.R, signature.S, der);
        File.WriteAllBytes(file, der[..length]);
        return OpenSsl(["pkeyutl", "-verify", "-pubin", "-inkey", publicFile, "-rawin", "-digest", "sm3", "-in", message, "-sigfile", file, "-pkeyopt", $"distid:{id}"], out _) == 0;
    }

    private static bool BouncyCastleVerify(in Hash256 digest, in Signature signature, string id)
    {
        var curve = GMNamedCurves.GetByOid(GMObjectIdentifiers.sm2p256v1);
        var domain = new ECDomainParameters(curve);
        var point = curve.Curve.CreatePoint(new BigInteger(1, signature.PublicKey[..32]), new BigInteger(1, signature.PublicKey[32..]));
        var signer = new SM2Signer(PlainDsaEncoding.Instance);
        signer.Init(false, new ParametersWithID(new ECPublicKeyParameters(point, domain), System.Text.Encoding.ASCII.GetBytes(id)));
        signer.BlockUpdate(digest.Bytes);
        return signer.VerifySignature(signature.Compact.ToArray());
    }

    private static Signature BouncyCastleSign(in Hash256 digest, byte[] key, byte[] publicKey, string id)
    {
        var curve = GMNamedCurves.GetByOid(GMObjectIdentifiers.sm2p256v1);
        var signer = new SM2Signer(PlainDsaEncoding.Instance);
        signer.Init(true, new ParametersWithID(new ECPrivateKeyParameters(new BigInteger(1, key), new ECDomainParameters(curve)), System.Text.Encoding.ASCII.GetBytes(id)));
        signer.BlockUpdate(digest.Bytes);
        return Signature.Sm2(signer.GenerateSignature(), publicKey);
    }

    private static byte[] FromDer(byte[] der)
    {
        var rs = StandardDsaEncoding.Instance.Decode(GMNamedCurves.GetByOid(GMObjectIdentifiers.sm2p256v1).N, der);
        var output = new byte[64];
        var r = rs[0].ToByteArrayUnsigned();
        var s = rs[1].ToByteArrayUnsigned();
        r.CopyTo(output, 32 - r.Length);
        s.CopyTo(output, 64 - s.Length);
        return output;
    }

    private static string Pem(string label, byte[] der)
        => $"-----BEGIN {label}-----\n{Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks)}\n-----END {label}-----\n";

    internal static int OpenSsl(string[] arguments, out byte[] stdout)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start (scripts/test.sh installs the openssl package)");
        using var buffer = new MemoryStream();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.BaseStream.CopyTo(buffer);
        process.WaitForExit();
        _ = stderr.Result;
        stdout = buffer.ToArray();
        return process.ExitCode;
    }
}
