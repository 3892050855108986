using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.Ledger.Consensus;

/// <summary>
/// What each side of a peer link signs when it opens (docs/consensus.md, "Peer network"):
/// <c>PeerHandshake(bytes32 genesisHash,address dialer,address listener,bytes32 dialerNonce,bytes32 listenerNonce,bool fromDialer)</c>
/// under the consortium's EIP-712 domain (so bound to its chain id; schema: <c>contracts/eip712/peer-handshake.json</c>).
/// Each side's signature covers the nonce the other side has just chosen, so a recorded handshake is worthless on
/// another connection, and <see cref="FromDialer"/> keeps the listener's signature from being reflected back as the
/// dialer's.
/// </summary>
public readonly record struct PeerHandshake(Hash256 GenesisHash, Address Dialer, Address Listener, Hash256 DialerNonce, Hash256 ListenerNonce, bool FromDialer) : IEip712Struct
{
    public static Eip712StructType StructType { get; } = new("PeerHandshake", "bytes32 genesisHash,address dialer,address listener,bytes32 dialerNonce,bytes32 listenerNonce,bool fromDialer");

    public void WriteFields(ref Eip712StructWriter writer)
    {
        writer.WriteBytes32(GenesisHash);
        writer.WriteAddress(Dialer);
        writer.WriteAddress(Listener);
        writer.WriteBytes32(DialerNonce);
        writer.WriteBytes32(ListenerNonce);
        writer.WriteBool(FromDialer);
    }
}
