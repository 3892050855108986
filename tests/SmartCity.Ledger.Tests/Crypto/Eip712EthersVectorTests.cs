using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.Ledger.Tests.Crypto;

/// <summary>
/// ~200 random typed-data documents (nested structs, arrays of structs, multi-dimensional arrays, Chinese text, edge
/// integers in decimal, hex and number form, random domain subsets) hashed and signed by ethers.
/// </summary>
public sealed class Eip712EthersVectorTests
{
    [Theory]
    [MemberData(nameof(EthersVectors.Eip712Indexes), MemberType = typeof(EthersVectors))]
    public void Digest_and_encode_type_match_ethers(int index)
    {
        var vector = EthersVectors.Eip712Vectors[index];
        var typedData = Eip712TypedData.Parse(vector.GetProperty("typedData").GetRawText());

        Assert.Equal(vector.GetProperty("encodeType").GetString(), typedData.EncodeType(typedData.PrimaryType));
        Assert.Equal(vector.GetProperty("digest").GetString(), typedData.ComputeDigest().ToString());
    }

    [Theory]
    [MemberData(nameof(EthersVectors.Eip712IndexesForBothImplementations), MemberType = typeof(EthersVectors))]
    public void Signature_is_byte_equal_to_ethers_and_recovers_the_signer(int index, string implementation)
    {
        var secp256k1 = Secp256k1Implementations.Get(implementation);
        var vector = EthersVectors.Eip712Vectors[index];
        var digest = Hash256.Parse(vector.GetProperty("digest").GetString()!);
        var privateKey = Convert.FromHexString(vector.GetProperty("privateKey").GetString()![2..]);
        var expectedSignature = Signature.Parse(vector.GetProperty("signature").GetString()!);
        var expectedAddress = Address.Parse(vector.GetProperty("address").GetString()!);

        Assert.Equal(expectedAddress, secp256k1.GetAddress(privateKey));
        Assert.Equal(expectedSignature, secp256k1.Sign(digest, privateKey));
        Assert.Equal(SignatureCheck.Ok, secp256k1.Recover(digest, expectedSignature, out var signer));
        Assert.Equal(vector.GetProperty("address").GetString(), signer.ToString());
        Assert.Equal(SignatureCheck.Ok, secp256k1.Verify(digest, expectedSignature, expectedAddress));
    }
}
