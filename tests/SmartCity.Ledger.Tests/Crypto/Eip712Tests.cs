using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.Ledger.Tests.Crypto;

public sealed class Eip712Tests
{
    // The example of EIP-712 itself (eips.ethereum.org/EIPS/eip-712, assets/eip-712/Example.js): the values
    // below are the ones it prints, and the signature is by the key keccak256("cow").
    internal const string MailExample = """
        {
          "types": {
            "EIP712Domain": [
              { "name": "name", "type": "string" },
              { "name": "version", "type": "string" },
              { "name": "chainId", "type": "uint256" },
              { "name": "verifyingContract", "type": "address" }
            ],
            "Person": [ { "name": "name", "type": "string" }, { "name": "wallet", "type": "address" } ],
            "Mail": [
              { "name": "from", "type": "Person" },
              { "name": "to", "type": "Person" },
              { "name": "contents", "type": "string" }
            ]
          },
          "primaryType": "Mail",
          "domain": { "name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC" },
          "message": {
            "from": { "name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
            "to": { "name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
            "contents": "Hello, Bob!"
          }
        }
        """;

    internal const string MailDigest = "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2";
    internal const string MailSignature = "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c";
    internal const string CowAddress = "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826";

    [Fact]
    public void Mail_example_of_the_specification_hashes_to_its_published_values()
    {
        var typedData = Eip712TypedData.Parse(MailExample);

        Assert.Equal("Mail(Person from,Person to,string contents)Person(string name,address wallet)", typedData.EncodeType("Mail"));
        Assert.Equal("0xa0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2", typedData.TypeHash("Mail").ToString());
        Assert.Equal("0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f", typedData.DomainSeparator().ToString());
        Assert.Equal("0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e", typedData.HashStruct("Mail", typedData.Message).ToString());
        Assert.Equal(MailDigest, typedData.ComputeDigest().ToString());
    }

    [Theory]
    [MemberData(nameof(Secp256k1Implementations.Both), MemberType = typeof(Secp256k1Implementations))]
    public void Mail_example_signature_by_cow_is_reproduced_and_recovered(string implementation)
    {
        var secp256k1 = Secp256k1Implementations.Get(implementation);
        var cow = Keccak256.Hash("cow"u8);
        var digest = Hash256.Parse(MailDigest);

        Assert.Equal(CowAddress, secp256k1.GetAddress(cow.Bytes).ToString());
        Assert.Equal(MailSignature, secp256k1.Sign(digest, cow.Bytes).ToString());
        Assert.Equal(SignatureCheck.Ok, secp256k1.Recover(digest, Signature.Parse(MailSignature), out var signer));
        Assert.Equal(CowAddress, signer.ToString());
    }

    [Fact]
    public void Typed_structs_hash_like_the_general_encoder()
    {
        var domain = new Eip712Domain("Ether Mail", "1", 1, Address.Parse("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"));
        var mail = new Mail(
            new Person("Cow", Address.Parse("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826")),
            new Person("Bob", Address.Parse("0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB")),
            "Hello, Bob!");

        Assert.Equal("Mail(Person from,Person to,string contents)Person(string name,address wallet)", Mail.StructType.EncodedType);
        Assert.Equal("0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f", domain.Separator.ToString());
        Assert.Equal(MailDigest, Eip712Encoding.Digest(domain, mail).ToString());
    }

    [Fact]
    public void Typed_writer_encodes_every_atomic_kind_like_the_general_encoder()
    {
        var everything = new Everything(-5, ulong.MaxValue, true, Keccak256.Hash("x"u8), [0xAB, 0xCD], "京津冀协同发展", [new Person("甲", Address.Zero), new Person("乙", Address.Zero)]);
        const string Json = """
            {
              "types": {
                "Everything": [
                  { "name": "small", "type": "int64" }, { "name": "large", "type": "uint256" }, { "name": "flag", "type": "bool" },
                  { "name": "hash", "type": "bytes32" }, { "name": "tag", "type": "bytes2" }, { "name": "text", "type": "string" },
                  { "name": "people", "type": "Person[]" }
                ],
                "Person": [ { "name": "name", "type": "string" }, { "name": "wallet", "type": "address" } ]
              },
              "primaryType": "Everything",
              "domain": { "chainId": "0xc1d" },
              "message": {
                "small": -5, "large": "18446744073709551615", "flag": true,
                "hash": "0x7521d1cadbcfa91eec65aa16715b94ffc1c9654ba57ea2ef1a2127bca1127a83", "tag": "0xabcd", "text": "京津冀协同发展",
                "people": [ { "name": "甲", "wallet": "0x0000000000000000000000000000000000000000" }, { "name": "乙", "wallet": "0x0000000000000000000000000000000000000000" } ]
              }
            }
            """;

        Assert.Equal("0x7521d1cadbcfa91eec65aa16715b94ffc1c9654ba57ea2ef1a2127bca1127a83", Keccak256.Hash("x"u8).ToString());
        Assert.Equal(Eip712TypedData.Parse(Json).ComputeDigest(), Eip712Encoding.Digest(new Eip712Domain(chainId: 3101), everything));
    }

    [Theory]
    [InlineData("not json", Eip712Error.MalformedDocument, "")]
    [InlineData("""{"types":{},"primaryType":"Mail","domain":{},"message":{}}""", Eip712Error.UnknownType, "primaryType")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"uint7"}]},"primaryType":"T","domain":{},"message":{"a":1}}""", Eip712Error.UnknownType, "types.T[0]")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"bytes33"}]},"primaryType":"T","domain":{},"message":{"a":"0x00"}}""", Eip712Error.UnknownType, "types.T[0]")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"uint8[x]"}]},"primaryType":"T","domain":{},"message":{"a":[]}}""", Eip712Error.InvalidTypeDefinition, "types.T[0]")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"bool"},{"name":"a","type":"bool"}]},"primaryType":"T","domain":{},"message":{"a":true}}""", Eip712Error.InvalidTypeDefinition, "types.T[1]")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"uint8"}]},"primaryType":"T","domain":{},"message":{"a":256}}""", Eip712Error.IntegerOutOfRange, "message.a")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"uint8"}]},"primaryType":"T","domain":{},"message":{"a":"-1"}}""", Eip712Error.IntegerOutOfRange, "message.a")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"int8"}]},"primaryType":"T","domain":{},"message":{"a":"-129"}}""", Eip712Error.IntegerOutOfRange, "message.a")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"int8"}]},"primaryType":"T","domain":{},"message":{"a":"0x80"}}""", Eip712Error.IntegerOutOfRange, "message.a")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"uint256"}]},"primaryType":"T","domain":{},"message":{"a":1.5}}""", Eip712Error.InvalidValue, "message.a")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"uint256"}]},"primaryType":"T","domain":{},"message":{"a":"12abc"}}""", Eip712Error.InvalidValue, "message.a")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"address"}]},"primaryType":"T","domain":{},"message":{"a":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"}}""", Eip712Error.InvalidValue, "message.a")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"bytes4"}]},"primaryType":"T","domain":{},"message":{"a":"0x010203"}}""", Eip712Error.WrongLength, "message.a")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"bytes"}]},"primaryType":"T","domain":{},"message":{"a":"0x123"}}""", Eip712Error.InvalidValue, "message.a")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"bool[2]"}]},"primaryType":"T","domain":{},"message":{"a":[true]}}""", Eip712Error.WrongLength, "message.a")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"bool[][2]"}]},"primaryType":"T","domain":{},"message":{"a":[[true],[1]]}}""", Eip712Error.InvalidValue, "message.a[1][0]")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"string"}]},"primaryType":"T","domain":{},"message":{}}""", Eip712Error.MissingValue, "message.a")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"string"}]},"primaryType":"T","domain":{"chainId":"x"},"message":{"a":""}}""", Eip712Error.InvalidValue, "domain.chainId")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"string"}]},"primaryType":"T","domain":{},"message":{"a":"\ud800"}}""", Eip712Error.InvalidValue, "message.a")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"T[]"}]},"primaryType":"T","domain":{},"message":{"a":[{"a":[{"a":{}}]}]}}""", Eip712Error.InvalidValue, "message.a[0].a[0].a")]
    [InlineData("""{"types":{"T":[{"name":"a","type":"S"}]},"primaryType":"T","domain":{},"message":{"a":{}}}""", Eip712Error.UnknownType, "types.T[0]")]
    public void Bad_documents_are_typed_errors_with_a_path(string json, Eip712Error error, string path)
    {
        Assert.False(Eip712TypedData.TryComputeDigest(json, out _, out var exception));
        Assert.Equal(error, exception.Error);
        Assert.Equal(path, exception.Path);
    }

    [Fact]
    public void Integers_in_number_decimal_and_hex_form_encode_alike_and_negative_ones_sign_extend()
    {
        static Hash256 Digest(string value) => Eip712TypedData.Parse(
            $$$"""{"types":{"T":[{"name":"a","type":"int256"}]},"primaryType":"T","domain":{},"message":{"a":{{{value}}}}}""").ComputeDigest();

        Assert.Equal(Digest("255"), Digest("\"255\""));
        Assert.Equal(Digest("255"), Digest("\"0xff\""));
        Assert.Equal(Digest("-1"), Digest("\"-0x1\""));
        Assert.NotEqual(Digest("-1"), Digest("1"));
    }

    [Fact]
    public void A_document_without_an_EIP712Domain_type_derives_it_from_the_domain_members()
    {
        var withoutDomainType = MailExample.Replace(
            """
                "EIP712Domain": [
                  { "name": "name", "type": "string" },
                  { "name": "version", "type": "string" },
                  { "name": "chainId", "type": "uint256" },
                  { "name": "verifyingContract", "type": "address" }
                ],
            """.Replace("\r\n", "\n", StringComparison.Ordinal), "", StringComparison.Ordinal);

        Assert.DoesNotContain("EIP712Domain", withoutDomainType, StringComparison.Ordinal);
        Assert.Equal(MailDigest, Eip712TypedData.Parse(withoutDomainType).ComputeDigest().ToString());
    }

    [Fact]
    public void Writing_fewer_fields_than_the_type_declares_is_a_bug_that_throws()
        => Assert.Throws<InvalidOperationException>(() => Eip712StructHasher.Hash(new Incomplete()));

    private readonly record struct Person(string Name, Address Wallet) : IEip712Struct
    {
        public static Eip712StructType StructType { get; } = new("Person", "string name,address wallet");

        public void WriteFields(ref Eip712StructWriter writer)
        {
            writer.WriteString(Name);
            writer.WriteAddress(Wallet);
        }
    }

    private readonly record struct Mail(Person From, Person To, string Contents) : IEip712Struct
    {
        public static Eip712StructType StructType { get; } = new("Mail", "Person from,Person to,string contents", Person.StructType);

        public void WriteFields(ref Eip712StructWriter writer)
        {
            writer.WriteStruct(From);
            writer.WriteStruct(To);
            writer.WriteString(Contents);
        }
    }

    private readonly record struct Everything(long Small, ulong Large, bool Flag, Hash256 Hash, byte[] Tag, string Text, Person[] People) : IEip712Struct
    {
        public static Eip712StructType StructType { get; } = new(
            "Everything", "int64 small,uint256 large,bool flag,bytes32 hash,bytes2 tag,string text,Person[] people", Person.StructType);

        public void WriteFields(ref Eip712StructWriter writer)
        {
            writer.WriteInt(Small);
            writer.WriteUInt(Large);
            writer.WriteBool(Flag);
            writer.WriteBytes32(Hash);
            writer.WriteFixedBytes(Tag);
            writer.WriteString(Text);
            writer.WriteStructArray<Person>(People);
        }
    }

    private readonly record struct Incomplete : IEip712Struct
    {
        public static Eip712StructType StructType { get; } = new("Incomplete", "uint8 a,uint8 b");

        public void WriteFields(ref Eip712StructWriter writer) => writer.WriteUInt(1);
    }
}
