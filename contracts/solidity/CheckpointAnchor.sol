// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title Checkpoints of a SmartCity.Ledger chain, accepted only with a quorum of its validators' own seals.
/// @notice Anyone may submit a checkpoint: the contract trusts no submitter. It decodes the ledger's 221-byte
/// version-1 block header (docs/receipts.md), recomputes the header hash (Keccak-256 of those bytes), and checks the
/// commit certificate exactly as the ledger's offline verifier does: every seal is an EIP-712 signature of
/// `CommitSeal(bytes32 headerHash,uint64 height,uint32 round)` under the ledger's EIP-712 domain, recovered with
/// `ecrecover`, low-s, v = 27 or 28, by distinct validators of the current set in ascending address order, at least
/// ⌈2n/3⌉ of them. Heights only increase. A validator-set hand-over is accepted only when the outgoing set certified
/// a header whose state root commits to the incoming set (docs/anchoring.md).
/// @dev Formats: docs/receipts.md (header, certificate, validator set), docs/proofs.md (state proof).
contract CheckpointAnchor {
    // ---------------------------------------------------------------------------------------------------------------
    // Formats
    // ---------------------------------------------------------------------------------------------------------------

    uint256 private constant HEADER_SIZE = 221;
    uint8 private constant HEADER_VERSION = 1;
    uint8 private constant CERTIFICATE_VERSION = 1;
    /// @dev version (1) ‖ height (8) ‖ round (4) ‖ header hash (32) ‖ seal count (2)
    uint256 private constant CERTIFICATE_FIXED_SIZE = 47;
    uint256 private constant SEAL_SIZE = 65;
    /// @dev The last millisecond of 9999-12-31 UTC, the largest header timestamp the ledger decodes.
    uint64 private constant MAX_TIMESTAMP_MS = 253_402_300_799_999;
    /// @dev secp256k1 n / 2: a seal with a larger s is the malleated twin of a low-s one (EIP-2).
    uint256 private constant HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    bytes32 private constant DOMAIN_TYPEHASH = keccak256("EIP712Domain(string name,string version,uint256 chainId)");
    bytes32 private constant COMMIT_SEAL_TYPEHASH = keccak256("CommitSeal(bytes32 headerHash,uint64 height,uint32 round)");
    /// @dev The state key whose value is the validator set that seals the next block: Keccak-256("validator-set").
    bytes32 private constant VALIDATOR_SET_KEY = keccak256("validator-set");

    // ---------------------------------------------------------------------------------------------------------------
    // Refusals: every reason a checkpoint or a hand-over is not accepted
    // ---------------------------------------------------------------------------------------------------------------

    /// @notice The header bytes are not one canonical version-1 header.
    error MalformedHeader(string reason);
    /// @notice The certificate bytes are not one canonical version-1 commit certificate.
    error MalformedCertificate(string reason);
    /// @notice The header belongs to another ledger chain.
    error WrongChainId(uint64 expected, uint64 actual);
    /// @notice The header names a validator set other than the one this contract holds.
    error WrongValidatorSet(bytes32 expected, bytes32 actual);
    /// @notice Heights only increase: the header is not above the latest checkpoint.
    error HeightNotIncreasing(uint64 height, uint64 latestHeight);
    /// @notice The certificate names another header (hash, height or round), e.g. a header edited after sealing.
    error CertificateForAnotherHeader(bytes32 headerHash, uint64 height, uint32 round, bytes32 certifiedHash, uint64 certifiedHeight, uint32 certifiedRound);
    /// @notice Seal `index` has a v other than 27 or 28.
    error SealVNotCanonical(uint256 index, uint8 v);
    /// @notice Seal `index` has s above n/2 (EIP-2).
    error SealHighS(uint256 index);
    /// @notice Seal `index` recovers to no address.
    error SealUnrecoverable(uint256 index);
    /// @notice Seal `index` is by an address that is not a validator of the current set.
    error SealNotByValidator(uint256 index, address signer);
    /// @notice Seal `index` repeats the signer of the seal before it.
    error DuplicateSigner(uint256 index, address signer);
    /// @notice Seal `index` is not in ascending signer order.
    error SealsOutOfOrder(uint256 index, address signer);
    /// @notice Fewer seals than the quorum ⌈2n/3⌉ of the current set.
    error TooFewSeals(uint256 seals, uint256 quorum);
    /// @notice A validator list that is empty, unordered, repeated or holds the zero address.
    error MalformedValidatorSet(string reason);
    /// @notice The constructor's validator-set hash is not the hash of its validators.
    error ValidatorSetHashMismatch(bytes32 given, bytes32 computed);
    /// @notice A hand-over to the set already in force.
    error SameValidatorSet(bytes32 validatorSetHash);
    /// @notice The state proof bytes are not one canonical version-1 state proof.
    error MalformedStateProof(string reason);
    /// @notice The state proof does not show the incoming set as the `validator-set` value under the header's state root.
    error ValidatorSetNotInState(bytes32 stateRoot, bytes32 expectedValueHash);
    /// @notice A height at which nothing was anchored.
    error NoCheckpoint(uint64 height);

    // ---------------------------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------------------------

    /// @notice A certified header was anchored.
    event CheckpointAnchored(
        uint64 indexed height,
        bytes32 indexed headerHash,
        uint64 historySize,
        bytes32 historyRoot,
        bytes32 stateRoot,
        uint64 timestampMs,
        address submitter
    );

    /// @notice The set certified by `previousSetHash` at `height` handed over to `newSetHash`, which seals from height + 1.
    event ValidatorSetHandedOver(uint64 indexed height, bytes32 indexed previousSetHash, bytes32 indexed newSetHash, address[] validators);

    // ---------------------------------------------------------------------------------------------------------------
    // Configuration and state
    // ---------------------------------------------------------------------------------------------------------------

    /// @notice The ledger's chain id (genesis `chainId`), which every anchored header must carry.
    uint64 public immutable ledgerChainId;
    /// @notice hashStruct(EIP712Domain{name, version, chainId}) of the genesis `eip712Domain`, computed here.
    bytes32 public immutable domainSeparator;
    /// @notice The genesis `eip712Domain.chainId` (may differ from the ledger chain id and from the EVM's chain id).
    uint256 public immutable domainChainId;
    /// @notice The hash of the genesis validator set.
    bytes32 public immutable genesisValidatorSetHash;
    /// @notice The genesis `eip712Domain.name`.
    string public domainName;
    /// @notice The genesis `eip712Domain.version`.
    string public domainVersion;

    /// @notice Hash of the validator set in force: Keccak-256(count as uint32 ‖ addresses ascending).
    bytes32 public validatorSetHash;
    /// @notice The first ledger height the set in force seals (0 for the genesis set).
    uint64 public validatorSetSince;

    address[] private _validators;
    /// @dev validator => the epoch of the set it belongs to; a member of the set in force has the current epoch.
    mapping(address => uint256) private _validatorEpoch;
    uint256 private _epoch;

    /// @notice What is kept of an anchored header.
    struct Checkpoint {
        bytes32 headerHash;
        bytes32 historyRoot;
        bytes32 stateRoot;
        uint64 height;
        uint64 historySize;
        uint64 timestampMs;
        uint64 evmBlockNumber;
    }

    mapping(uint64 => Checkpoint) private _checkpoints;
    uint64[] private _heights;

    /// @param ledgerChainId_ genesis `chainId`
    /// @param name genesis `eip712Domain.name`
    /// @param version genesis `eip712Domain.version`
    /// @param domainChainId_ genesis `eip712Domain.chainId`
    /// @param initialValidators the genesis validators in ascending address order
    /// @param validatorSetHash_ the genesis validator-set hash, checked against `validators`
    constructor(
        uint64 ledgerChainId_,
        string memory name,
        string memory version,
        uint256 domainChainId_,
        address[] memory initialValidators,
        bytes32 validatorSetHash_
    ) {
        bytes32 computed = _validatorSetHash(initialValidators);
        if (computed != validatorSetHash_) revert ValidatorSetHashMismatch(validatorSetHash_, computed);
        ledgerChainId = ledgerChainId_;
        domainChainId = domainChainId_;
        domainName = name;
        domainVersion = version;
        domainSeparator = keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(name)), keccak256(bytes(version)), domainChainId_));
        genesisValidatorSetHash = computed;
        _installValidators(initialValidators, computed);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Anchoring
    // ---------------------------------------------------------------------------------------------------------------

    /// @notice Anchors a certified header: stores (height → header hash, history size and root, state root).
    /// @param header the 221-byte canonical header
    /// @param certificate the canonical commit certificate of that header
    function anchor(bytes calldata header, bytes calldata certificate) external {
        Header memory h = _decodeHeader(header);
        _requireCurrent(h);
        uint64 latest = latestHeight();
        if (_heights.length != 0 && h.height <= latest) revert HeightNotIncreasing(h.height, latest);
        _requireCertified(h, certificate);
        _record(h);
    }

    /// @notice Hands the contract over to the next validator set. The outgoing set (the one in force) must have
    /// certified `header`, and `validatorSetProof` must show, under that header's state root, that the state's
    /// `validator-set` value is `newValidators`: by the ledger's rule that set seals every block after it.
    /// @param header a header sealed by the set in force, at or above the latest checkpoint
    /// @param certificate its commit certificate
    /// @param newValidators the incoming validators in ascending address order
    /// @param validatorSetProof the binary state proof (docs/proofs.md) of the `validator-set` key at the header's state root
    function handOver(
        bytes calldata header,
        bytes calldata certificate,
        address[] calldata newValidators,
        bytes calldata validatorSetProof
    ) external {
        Header memory h = _decodeHeader(header);
        _requireCurrent(h);
        bool anchored = _heights.length != 0;
        uint64 latest = latestHeight();
        bool atLatest = anchored && h.height == latest && _checkpoints[latest].headerHash == h.hash;
        if (anchored && h.height <= latest && !atLatest) revert HeightNotIncreasing(h.height, latest);
        _requireCertified(h, certificate);

        bytes32 newSetHash = _validatorSetHash(newValidators);
        bytes32 previousSetHash = validatorSetHash;
        if (newSetHash == previousSetHash) revert SameValidatorSet(newSetHash);
        bytes32 valueHash = keccak256(_validatorSetStateValue(newValidators));
        _requireStateProof(validatorSetProof, h.stateRoot, valueHash);

        if (!atLatest) _record(h);
        _installValidators(newValidators, newSetHash);
        validatorSetSince = h.height + 1;
        emit ValidatorSetHandedOver(h.height, previousSetHash, newSetHash, newValidators);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Reading
    // ---------------------------------------------------------------------------------------------------------------

    /// @notice The height of the latest checkpoint, or 0 when nothing was anchored yet (see `checkpointCount`).
    function latestHeight() public view returns (uint64) {
        uint256 count = _heights.length;
        return count == 0 ? 0 : _heights[count - 1];
    }

    /// @notice How many checkpoints were anchored.
    function checkpointCount() external view returns (uint256) {
        return _heights.length;
    }

    /// @notice The checkpoint anchored at `height`.
    function checkpointAt(uint64 height) external view returns (Checkpoint memory) {
        Checkpoint memory c = _checkpoints[height];
        if (c.headerHash == bytes32(0)) revert NoCheckpoint(height);
        return c;
    }

    /// @notice Up to `limit` checkpoints in anchoring (= height) order, from the `start`-th one.
    function checkpoints(uint256 start, uint256 limit) external view returns (Checkpoint[] memory page) {
        uint256 count = _heights.length;
        uint256 end = start >= count ? start : (limit > count - start ? count : start + limit);
        page = new Checkpoint[](end - start);
        for (uint256 i = start; i < end; i++) {
            page[i - start] = _checkpoints[_heights[i]];
        }
    }

    /// @notice The validator set in force, ascending.
    function validators() external view returns (address[] memory) {
        return _validators;
    }

    /// @notice Whether `account` is a validator of the set in force.
    function isValidator(address account) public view returns (bool) {
        return _validatorEpoch[account] == _epoch;
    }

    /// @notice ⌈2n/3⌉ of the set in force.
    function quorum() public view returns (uint256) {
        return (2 * _validators.length + 2) / 3;
    }

    /// @notice The EIP-712 digest a validator signs to seal (headerHash, height, round) under the ledger's domain.
    function commitSealDigest(bytes32 headerHash, uint64 height, uint32 round) public view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(COMMIT_SEAL_TYPEHASH, headerHash, height, round));
        return keccak256(abi.encodePacked(hex"1901", domainSeparator, structHash));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------------------------

    struct Header {
        bytes32 hash;
        uint64 chainId;
        uint64 height;
        uint64 timestampMs;
        uint32 round;
        bytes32 stateRoot;
        uint64 historySize;
        bytes32 historyRoot;
        bytes32 validatorSetHash;
    }

    /// @dev Mirrors BlockHeader.TryDecode: exact length, version 1, timestamp within 1970..9999, and no negative
    /// height, round, transaction count or history size (they are signed integers in the ledger).
    function _decodeHeader(bytes calldata b) private pure returns (Header memory h) {
        if (b.length != HEADER_SIZE) revert MalformedHeader("a header is 221 bytes");
        if (uint8(b[0]) != HEADER_VERSION) revert MalformedHeader("unknown header encoding version");
        h.timestampMs = uint64(bytes8(b[49:57]));
        if (h.timestampMs > MAX_TIMESTAMP_MS) revert MalformedHeader("timestamp outside 1970-01-01 .. 9999-12-31");
        h.chainId = uint64(bytes8(b[1:9]));
        h.height = uint64(bytes8(b[9:17]));
        h.round = uint32(bytes4(b[77:81]));
        uint32 transactionCount = uint32(bytes4(b[81:85]));
        h.historySize = uint64(bytes8(b[149:157]));
        if (h.height > uint64(type(int64).max) || h.round > uint32(type(int32).max)
            || transactionCount > uint32(type(int32).max) || h.historySize > uint64(type(int64).max)) {
            revert MalformedHeader("negative height, round, transaction count or history size");
        }
        h.stateRoot = bytes32(b[117:149]);
        h.historyRoot = bytes32(b[157:189]);
        h.validatorSetHash = bytes32(b[189:221]);
        h.hash = keccak256(b);
    }

    function _requireCurrent(Header memory h) private view {
        if (h.chainId != ledgerChainId) revert WrongChainId(ledgerChainId, h.chainId);
        if (h.validatorSetHash != validatorSetHash) revert WrongValidatorSet(validatorSetHash, h.validatorSetHash);
    }

    /// @dev Mirrors CommitCertificate.TryDecode and CommitCertificate.Verify, in the same order of checks.
    function _requireCertified(Header memory h, bytes calldata c) private view {
        if (c.length < CERTIFICATE_FIXED_SIZE) revert MalformedCertificate("certificate too short");
        if (uint8(c[0]) != CERTIFICATE_VERSION) revert MalformedCertificate("unknown certificate encoding version");
        uint256 count = uint16(bytes2(c[45:47]));
        if (c.length != CERTIFICATE_FIXED_SIZE + count * SEAL_SIZE) revert MalformedCertificate("seal count does not match the certificate's length");
        uint64 certifiedHeight = uint64(bytes8(c[1:9]));
        uint32 certifiedRound = uint32(bytes4(c[9:13]));
        if (certifiedHeight > uint64(type(int64).max) || certifiedRound > uint32(type(int32).max)) {
            revert MalformedCertificate("negative height or round");
        }

        bytes32 certifiedHash = bytes32(c[13:45]);
        if (certifiedHash != h.hash || certifiedHeight != h.height || certifiedRound != h.round) {
            revert CertificateForAnotherHeader(h.hash, h.height, h.round, certifiedHash, certifiedHeight, certifiedRound);
        }

        bytes32 digest = commitSealDigest(h.hash, h.height, h.round);
        address previous = address(0);
        for (uint256 i = 0; i < count; i++) {
            uint256 offset = CERTIFICATE_FIXED_SIZE + i * SEAL_SIZE;
            bytes32 r = bytes32(c[offset:offset + 32]);
            bytes32 s = bytes32(c[offset + 32:offset + 64]);
            uint8 v = uint8(c[offset + 64]);
            if (v != 27 && v != 28) revert SealVNotCanonical(i, v);
            if (uint256(s) > HALF_CURVE_ORDER) revert SealHighS(i);
            address signer = ecrecover(digest, v, r, s);
            if (signer == address(0)) revert SealUnrecoverable(i);
            if (!isValidator(signer)) revert SealNotByValidator(i, signer);
            if (i > 0 && uint160(signer) <= uint160(previous)) {
                if (signer == previous) revert DuplicateSigner(i, signer);
                revert SealsOutOfOrder(i, signer);
            }
            previous = signer;
        }

        uint256 needed = quorum();
        if (count < needed) revert TooFewSeals(count, needed);
    }

    function _record(Header memory h) private {
        _checkpoints[h.height] = Checkpoint({
            headerHash: h.hash,
            historyRoot: h.historyRoot,
            stateRoot: h.stateRoot,
            height: h.height,
            historySize: h.historySize,
            timestampMs: h.timestampMs,
            evmBlockNumber: uint64(block.number)
        });
        _heights.push(h.height);
        emit CheckpointAnchored(h.height, h.hash, h.historySize, h.historyRoot, h.stateRoot, h.timestampMs, msg.sender);
    }

    function _installValidators(address[] memory validators_, bytes32 setHash) private {
        uint256 epoch = ++_epoch;
        delete _validators;
        for (uint256 i = 0; i < validators_.length; i++) {
            _validatorEpoch[validators_[i]] = epoch;
            _validators.push(validators_[i]);
        }
        validatorSetHash = setHash;
    }

    /// @dev Keccak-256(count as 4 bytes big-endian ‖ the 20-byte addresses), after checking they are strictly
    /// ascending, non-zero and at least one (ValidatorSet in the ledger).
    function _validatorSetHash(address[] memory validators_) private pure returns (bytes32) {
        uint256 n = validators_.length;
        if (n == 0) revert MalformedValidatorSet("no validators");
        if (n > type(uint16).max) revert MalformedValidatorSet("more than 65535 validators");
        bytes memory packed = new bytes(4 + 20 * n);
        packed[0] = bytes1(uint8(n >> 24));
        packed[1] = bytes1(uint8(n >> 16));
        packed[2] = bytes1(uint8(n >> 8));
        packed[3] = bytes1(uint8(n));
        address previous = address(0);
        for (uint256 i = 0; i < n; i++) {
            address a = validators_[i];
            if (uint160(a) <= uint160(previous)) {
                revert MalformedValidatorSet(a == address(0) ? "the zero address" : "not strictly ascending");
            }
            bytes20 raw = bytes20(a);
            for (uint256 j = 0; j < 20; j++) {
                packed[4 + 20 * i + j] = raw[j];
            }
            previous = a;
        }
        return keccak256(packed);
    }

    /// @dev The ledger's canonical encoding of ValidatorSetState (src/Ledger/State/StateValues.cs): a u16 count, then
    /// each address as a string (u32 byte length 42 and "0x" + 40 lower-case hex digits), in ascending order.
    function _validatorSetStateValue(address[] memory validators_) private pure returns (bytes memory value) {
        bytes16 digits = "0123456789abcdef";
        uint256 n = validators_.length;
        value = new bytes(2 + 46 * n);
        value[0] = bytes1(uint8(n >> 8));
        value[1] = bytes1(uint8(n));
        for (uint256 i = 0; i < n; i++) {
            uint256 at = 2 + 46 * i;
            value[at + 3] = bytes1(uint8(42));
            value[at + 4] = "0";
            value[at + 5] = "x";
            bytes20 raw = bytes20(validators_[i]);
            for (uint256 j = 0; j < 20; j++) {
                uint8 b = uint8(raw[j]);
                value[at + 6 + 2 * j] = digits[b >> 4];
                value[at + 7 + 2 * j] = digits[b & 0x0f];
            }
        }
    }

    /// @dev A decoded state proof that ends at a leaf: where its parts lie in the calldata.
    struct StateProofLeafPath {
        bytes32 key;
        bytes32 valueHash;
        uint256 depth;
        uint256 bitmapStart;
        uint256 siblingsStart;
        uint256 present;
    }

    /// @dev Mirrors StateProof.TryDecode and StateProof.Verify for a present key (docs/proofs.md, "Encoding (version 1)"):
    /// the path must end at the leaf of VALIDATOR_SET_KEY with `valueHash`, and fold up to `stateRoot`.
    function _requireStateProof(bytes calldata p, bytes32 stateRoot, bytes32 valueHash) private pure {
        StateProofLeafPath memory path = _decodeStateProof(p, stateRoot, valueHash);
        if (path.key != VALIDATOR_SET_KEY || path.valueHash != valueHash) revert ValidatorSetNotInState(stateRoot, valueHash);
        if (_foldStateProof(p, path) != stateRoot) revert ValidatorSetNotInState(stateRoot, valueHash);
    }

    function _decodeStateProof(bytes calldata p, bytes32 stateRoot, bytes32 valueHash) private pure returns (StateProofLeafPath memory path) {
        if (p.length < 4 || uint8(p[0]) != 1) revert MalformedStateProof("not a version-1 state proof");
        uint8 ending = uint8(p[1]);
        if (ending > 1) revert MalformedStateProof("unknown path ending");
        // A path that ends in an empty subtree proves the key absent: no validator set there.
        if (ending == 0) revert ValidatorSetNotInState(stateRoot, valueHash);
        if (p.length < 68) revert MalformedStateProof("truncated leaf");
        path.key = bytes32(p[2:34]);
        path.valueHash = bytes32(p[34:66]);
        path.depth = uint16(bytes2(p[66:68]));
        uint256 bitmapLength = (path.depth + 7) / 8;
        if (path.depth > 256 || p.length < 68 + bitmapLength) revert MalformedStateProof("depth or bitmap out of range");
        path.bitmapStart = 68;
        path.siblingsStart = 68 + bitmapLength;
        if (path.depth % 8 != 0 && (uint8(p[path.siblingsStart - 1]) & (0xff >> (path.depth % 8))) != 0) {
            revert MalformedStateProof("bitmap bits past the depth are set");
        }
        for (uint256 i = 0; i < path.depth; i++) {
            if (_siblingListed(p, path.bitmapStart, i)) path.present++;
        }
        if (p.length != path.siblingsStart + 32 * path.present) revert MalformedStateProof("sibling count does not match the bitmap");
    }

    /// @dev leaf = keccak(0x00 ‖ key ‖ valueHash); then, from the deepest sibling up, interior = keccak(0x01 ‖ left ‖ right)
    /// with the path on the side of the key's bit at that depth (bit 0 = the most significant bit of the key).
    function _foldStateProof(bytes calldata p, StateProofLeafPath memory path) private pure returns (bytes32 node) {
        node = keccak256(abi.encodePacked(uint8(0), path.key, path.valueHash));
        uint256 next = path.present;
        for (uint256 d = path.depth; d > 0; d--) {
            uint256 i = d - 1;
            bytes32 sibling = bytes32(0);
            if (_siblingListed(p, path.bitmapStart, i)) {
                next--;
                uint256 at = path.siblingsStart + 32 * next;
                sibling = bytes32(p[at:at + 32]);
                if (sibling == bytes32(0)) revert MalformedStateProof("a listed sibling is empty");
            }
            node = ((uint256(path.key) >> (255 - i)) & 1) == 0
                ? keccak256(abi.encodePacked(uint8(1), node, sibling))
                : keccak256(abi.encodePacked(uint8(1), sibling, node));
        }
    }

    function _siblingListed(bytes calldata p, uint256 bitmapStart, uint256 i) private pure returns (bool) {
        return (uint8(p[bitmapStart + (i >> 3)]) & (0x80 >> (i & 7))) != 0;
    }
}
