using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Domain.Rules;

/// <summary>Run once per crypto suite (eth and gm): the rules are the same, signatures, ids and state-key hashes are the suite's.</summary>
public abstract class EnvelopeRulesTests(CryptoSuiteId suite)
{
    private readonly TestLedger _ledger = TestLedger.Start(suite);

    [Fact]
    public void Accepts_a_record_from_a_designator_and_advances_its_nonce()
    {
        var transition = _ledger.Submit(Build.A.CreditRecord.By(TestKeys.BeijingRegulator));
        Assert.True(transition.IsAccepted, transition.ToString());
        Assert.Equal(1UL, _ledger.NextNonce(TestKeys.BeijingRegulator));
        Assert.Equal(0UL, _ledger.NextNonce(TestKeys.TianjinRegulator));
    }

    [Fact]
    public void Rejects_bytes_that_do_not_decode_as_Malformed()
        => AssertRejected(RejectionCode.Malformed, _ledger.Submit([1, 2, 3]));

    [Fact]
    public void Rejects_a_transaction_over_the_genesis_size_limit_as_TransactionTooLarge()
    {
        var ledger = TestLedger.Start(Build.A.Genesis.WithMaxTransactionBytes(256).InSuite(suite).TestObject);
        var body = new CreditRecordAnnul(Build.Id("r"), new string('x', 300));
        AssertRejected(RejectionCode.TransactionTooLarge, ledger.Submit(TestKeys.BeijingRegulator, body));
        AssertRejected(RejectionCode.TransactionTooLarge, ledger.Submit(TransactionCodec.Encode(ledger.Sign(TestKeys.BeijingRegulator, body))));
    }

    [Fact]
    public void Rejects_a_transaction_for_another_chain_as_WrongChainId()
    {
        var signed = TestLedger.Sign(_ledger.Genesis, TestKeys.BeijingRegulator, Build.A.CreditRecord.Body(), 0, chainId: 1);
        AssertRejected(RejectionCode.WrongChainId, _ledger.Submit(signed));
    }

    [Fact]
    public void Rejects_a_garbled_or_out_of_range_signature_as_BadSignature()
    {
        var signed = _ledger.Sign(TestKeys.BeijingRegulator, Build.A.CreditRecord.Body());
        var bytes = signed.Signature.ToArray();
        if (suite == CryptoSuiteId.Eth)
        {
            bytes[64] = 5; // v is neither 27 nor 28
            AssertRejected(RejectionCode.BadSignature, _ledger.Submit(signed with { Signature = new Signature(bytes) }));

            // EIP-2: s' = n − s is the same signature in its high-s form.
            var order = System.Numerics.BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);
            var s = new System.Numerics.BigInteger(signed.Signature.S, isUnsigned: true, isBigEndian: true);
            var highS = (order - s).ToByteArray(isUnsigned: true, isBigEndian: true);
            var high = new Signature(signed.Signature.R, [.. new byte[32 - highS.Length], .. highS], (byte)(signed.Signature.V ^ 1));
            AssertRejected(RejectionCode.BadSignature, _ledger.Submit(signed with { Signature = high }));
            return;
        }

        // SM2 r ‖ s ‖ x ‖ y: a flipped bit of s, s = 0 (out of [1, n−1]), and the signature carrying another member's key.
        var flipped = (byte[])bytes.Clone();
        flipped[40] ^= 1;
        AssertRejected(RejectionCode.BadSignature, _ledger.Submit(signed with { Signature = Signature.Sm2(flipped[..64], flipped[64..]) }));
        var zeroS = (byte[])bytes.Clone();
        Array.Clear(zeroS, 32, 32);
        AssertRejected(RejectionCode.BadSignature, _ledger.Submit(signed with { Signature = Signature.Sm2(zeroS[..64], zeroS[64..]) }));
        var otherKey = _ledger.Sign(TestKeys.TianjinRegulator, Build.A.CreditRecord.Body()).Signature.ToArray()[64..];
        AssertRejected(RejectionCode.BadSignature, _ledger.Submit(signed with { Signature = Signature.Sm2(bytes[..64], otherKey) }));
    }

    [Fact]
    public void Rejects_a_signature_by_someone_other_than_the_claimed_signer_as_SignerMismatch()
    {
        var signed = _ledger.Sign(TestKeys.BeijingRegulator, Build.A.CreditRecord.Body());
        AssertRejected(RejectionCode.SignerMismatch, _ledger.Submit(signed with { Signer = TestKeys.TianjinRegulator.AddressIn(suite) }));
    }

    [Fact]
    public void Rejects_a_signer_outside_the_consortium_as_NotAMember()
        => AssertRejected(RejectionCode.NotAMember, _ledger.Submit(Build.A.CreditRecord.By(TestKeys.Outsider)));

    [Fact]
    public void Rejects_a_replayed_transaction_as_NonceReused()
    {
        var signed = _ledger.Sign(TestKeys.BeijingRegulator, Build.A.CreditRecord.Body());
        Assert.True(_ledger.Submit(signed).IsAccepted);
        AssertRejected(RejectionCode.NonceReused, _ledger.Submit(signed));
    }

    [Fact]
    public void Rejects_a_nonce_that_skips_ahead_as_NonceGap()
    {
        var signed = TestLedger.Sign(_ledger.Genesis, TestKeys.BeijingRegulator, Build.A.CreditRecord.Body(), nonce: 1);
        AssertRejected(RejectionCode.NonceGap, _ledger.Submit(signed));
    }

    [Theory]
    [InlineData(TransactionKind.CreditRecordSubmit, MemberRole.CreditDesignator)]
    [InlineData(TransactionKind.LicenceIssue, MemberRole.LicenceIssuer)]
    [InlineData(TransactionKind.ListEntryAdd, MemberRole.ListInitiator)]
    [InlineData(TransactionKind.MemorandumPublish, MemberRole.MemorandumPublisher)]
    [InlineData(TransactionKind.MeasureFeedback, MemberRole.MeasureImplementer)]
    [InlineData(TransactionKind.ObjectionFile, MemberRole.None)]
    [InlineData(TransactionKind.GovernanceVote, MemberRole.None)]
    public void Each_kind_needs_its_role(TransactionKind kind, MemberRole role) => Assert.Equal(role, CreditStateMachine.RequiredRole(kind));

    [Fact]
    public void Rejects_a_member_without_the_role_the_kind_needs_as_MissingRole()
        => AssertRejected(RejectionCode.MissingRole, _ledger.Submit(Build.A.CreditRecord.By(TestKeys.JointCreditOffice)));

    [Fact]
    public void A_rejected_transaction_writes_nothing_and_keeps_the_nonce()
    {
        var before = _ledger.State.Digest();
        var transition = _ledger.Submit(Build.A.CreditRecord.InDivision("440300"));
        Assert.False(transition.IsAccepted);
        Assert.Empty(transition.Writes);
        Assert.Equal(before, _ledger.State.Digest());
        Assert.Equal(0UL, _ledger.NextNonce(TestKeys.BeijingRegulator));
    }

    internal static void AssertRejected(RejectionCode expected, Transition transition)
    {
        Assert.False(transition.IsAccepted, $"expected {expected}, but it was accepted");
        Assert.True(expected == transition.Code, $"expected {expected}, got {transition}");
        Assert.False(string.IsNullOrWhiteSpace(transition.Reason));
        Assert.Empty(transition.Writes);
    }

    public sealed class Eth() : EnvelopeRulesTests(CryptoSuiteId.Eth);

    public sealed class Gm() : EnvelopeRulesTests(CryptoSuiteId.Gm);
}
