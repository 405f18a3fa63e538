// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { BlinkMintableERC20, predictL2Token } from "./BlinkMintableERC20.sol";
import { L2StandardBridge } from "./L2StandardBridge.sol";
import { Portal } from "./Portal.sol";

/// @title L1StandardBridge
/// @notice L1 side of the ERC-20 bridge: locks L1 tokens and, through the Portal, has
///         `L2StandardBridge` (predeploy `0x4200000000000000000000000000000000000010`) mint them on
///         L2 as a `BlinkMintableERC20`. Entry points and event are OP Stack's (`depositERC20`,
///         `depositERC20To`, `ERC20DepositInitiated`, `deposits`), so OP-aware tools work unchanged.
/// @dev    The L2 token's address is fixed by the L1 token alone (CREATE2 from the L2 bridge, salt =
///         the L1 token, constant init code), and this contract computes it the same way: a deposit
///         naming another `_l2Token` reverts here instead of reverting on L2 and locking the tokens.
///         The L2 gas limit is at least `MIN_L2_GAS` plus `L2_GAS_PER_BYTE` per byte of calldata, so
///         that creating the L2 token never runs out of gas. The L1 token's name, symbol and
///         decimals travel with every deposit (read with bounded staticcalls; "", "" and 18 when
///         the token does not have them). Fee-on-transfer tokens are rejected (`UnsupportedToken`);
///         rebasing tokens are not supported. Tokens stay locked here until withdrawals exist
///         (the L2 -> L1 path, a later issue).
contract L1StandardBridge {
    using SafeERC20 for IERC20;

    /// @notice L2 gas always available to `finalizeDeposit` (token creation plus mint, with margin).
    uint64 public constant MIN_L2_GAS = 2_000_000;

    /// @notice Extra L2 gas per byte of `finalizeDeposit` calldata (covers the Portal's own
    ///         `40 * len` minimum, calldata, memory and the `extraData` log).
    uint64 public constant L2_GAS_PER_BYTE = 40;

    /// @notice Longest name or symbol taken from the L1 token; longer ones are replaced by "".
    uint256 public constant MAX_METADATA_LENGTH = 256;

    /// @notice Gas given to each metadata staticcall (`name`, `symbol`, `decimals`).
    uint256 public constant METADATA_CALL_GAS = 100_000;

    /// @notice The Portal deposits go through.
    Portal public immutable PORTAL;

    /// @notice The L2 bridge (OP's `OTHER_BRIDGE`), normally the predeploy `L2StandardBridge`.
    address public immutable OTHER_BRIDGE;

    /// @notice `keccak256(type(BlinkMintableERC20).creationCode)`: the L2 tokens' init code hash.
    bytes32 public immutable L2_TOKEN_INIT_CODE_HASH;

    /// @notice Amount of `l1Token` locked here for `l2Token` (OP's `deposits`).
    mapping(address l1Token => mapping(address l2Token => uint256 amount)) public deposits;

    /// @notice Emitted on every ERC-20 deposit (OP's `ERC20DepositInitiated`).
    /// @param l1Token    L1 token.
    /// @param l2Token    L2 token.
    /// @param from       Depositor on L1.
    /// @param to         Recipient on L2.
    /// @param amount     Amount locked.
    /// @param extraData  Opaque data passed to L2.
    event ERC20DepositInitiated(
        address indexed l1Token,
        address indexed l2Token,
        address indexed from,
        address to,
        uint256 amount,
        bytes extraData
    );

    /// @notice `depositERC20` was called by a contract (use `depositERC20To`).
    error OnlyEOA();
    /// @notice `_l2Token` is not the L2 token the L2 bridge creates for `_l1Token` (see `l2TokenFor`).
    error WrongL2Token();
    /// @notice The L2 recipient is the zero address.
    error ZeroRecipient();
    /// @notice The bridge received a different amount than `_amount` (fee-on-transfer token).
    error UnsupportedToken();

    /// @notice Sets the Portal and the L2 bridge.
    /// @param _portal    The Portal.
    /// @param _l2Bridge  The L2 bridge (`0x4200000000000000000000000000000000000010`).
    constructor(Portal _portal, address _l2Bridge) {
        PORTAL = _portal;
        OTHER_BRIDGE = _l2Bridge;
        L2_TOKEN_INIT_CODE_HASH = keccak256(type(BlinkMintableERC20).creationCode);
    }

    /// @notice Deposits `_amount` of `_l1Token` to the caller's own address on L2. Only callable
    ///         by an EOA (a contract's address on L2 may belong to someone else), as OP's.
    /// @dev    Needs an allowance of `_amount` to this bridge.
    /// @param _l1Token      L1 token.
    /// @param _l2Token      L2 token; must be `l2TokenFor(_l1Token)`.
    /// @param _amount       Amount to lock and mint on L2.
    /// @param _minGasLimit  Minimum L2 gas limit (raised to `l2GasLimit` if lower).
    /// @param _extraData    Opaque data, passed to L2 and emitted on both sides.
    function depositERC20(
        address _l1Token,
        address _l2Token,
        uint256 _amount,
        uint32 _minGasLimit,
        bytes calldata _extraData
    ) external {
        if (!_isSenderEOA()) revert OnlyEOA();
        _deposit(_l1Token, _l2Token, msg.sender, _amount, _minGasLimit, _extraData);
    }

    /// @notice Deposits `_amount` of `_l1Token` to `_to` on L2.
    /// @dev    Needs an allowance of `_amount` to this bridge.
    /// @param _l1Token      L1 token.
    /// @param _l2Token      L2 token; must be `l2TokenFor(_l1Token)`.
    /// @param _to           Recipient on L2 (non-zero).
    /// @param _amount       Amount to lock and mint on L2.
    /// @param _minGasLimit  Minimum L2 gas limit (raised to `l2GasLimit` if lower).
    /// @param _extraData    Opaque data, passed to L2 and emitted on both sides.
    function depositERC20To(
        address _l1Token,
        address _l2Token,
        address _to,
        uint256 _amount,
        uint32 _minGasLimit,
        bytes calldata _extraData
    ) external {
        _deposit(_l1Token, _l2Token, _to, _amount, _minGasLimit, _extraData);
    }

    /// @notice The L2 token the L2 bridge creates for `_l1Token` (whether or not it exists yet).
    /// @param _l1Token  L1 token.
    /// @return CREATE2 address from `OTHER_BRIDGE`, salt `bytes32(uint256(uint160(_l1Token)))`.
    function l2TokenFor(address _l1Token) public view returns (address) {
        return predictL2Token(OTHER_BRIDGE, _l1Token, L2_TOKEN_INIT_CODE_HASH);
    }

    /// @notice The L2 gas limit of a deposit whose L2 calldata is `_dataLength` bytes long.
    /// @param _minGasLimit  The depositor's minimum.
    /// @param _dataLength   Length of the `finalizeDeposit` calldata.
    /// @return `max(_minGasLimit, MIN_L2_GAS + L2_GAS_PER_BYTE * _dataLength)`.
    function l2GasLimit(uint32 _minGasLimit, uint256 _dataLength) public pure returns (uint64) {
        uint256 floor = MIN_L2_GAS + L2_GAS_PER_BYTE * _dataLength;
        return uint64(_minGasLimit > floor ? _minGasLimit : floor);
    }

    /// @notice The OP Stack name of `OTHER_BRIDGE`.
    /// @return The L2 bridge.
    function otherBridge() external view returns (address) {
        return OTHER_BRIDGE;
    }

    /// @notice The OP Stack name of `PORTAL`.
    /// @return The Portal.
    function portal() external view returns (Portal) {
        return PORTAL;
    }

    function _deposit(
        address _l1Token,
        address _l2Token,
        address _to,
        uint256 _amount,
        uint32 _minGasLimit,
        bytes calldata _extraData
    ) internal {
        if (_l2Token != l2TokenFor(_l1Token)) revert WrongL2Token();
        if (_to == address(0)) revert ZeroRecipient();

        IERC20 token = IERC20(_l1Token);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), _amount);
        // Strict equality also rejects re-entrant deposits from inside `transferFrom`.
        if (token.balanceOf(address(this)) - before != _amount) revert UnsupportedToken();
        deposits[_l1Token][_l2Token] += _amount;

        bytes memory message = _finalizeMessage(_l1Token, _l2Token, _to, _amount, _extraData);
        emit ERC20DepositInitiated(_l1Token, _l2Token, msg.sender, _to, _amount, _extraData);
        PORTAL.depositTransaction(OTHER_BRIDGE, 0, l2GasLimit(_minGasLimit, message.length), false, message);
    }

    /// @dev The L2 calldata of a deposit: `L2StandardBridge.finalizeDeposit` with the L1 token's metadata.
    function _finalizeMessage(
        address _l1Token,
        address _l2Token,
        address _to,
        uint256 _amount,
        bytes calldata _extraData
    ) internal view returns (bytes memory) {
        string memory name = _metadataString(_l1Token, 0x06fdde03); // name()
        string memory symbol = _metadataString(_l1Token, 0x95d89b41); // symbol()
        uint8 decimals = _metadataDecimals(_l1Token);
        return abi.encodeCall(
            L2StandardBridge.finalizeDeposit,
            (_l1Token, _l2Token, msg.sender, _to, _amount, name, symbol, decimals, _extraData)
        );
    }

    /// @dev `name()` / `symbol()` of `_token`: an ABI string of at most `MAX_METADATA_LENGTH` bytes, or
    ///      a `bytes32` (old tokens such as MKR, trailing zero bytes dropped); "" otherwise. Copies at
    ///      most what it needs from the return data, so a token cannot make this run out of gas.
    function _metadataString(address _token, bytes4 _selector) internal view returns (string memory out) {
        uint256 maxLen = MAX_METADATA_LENGTH;
        uint256 callGas = METADATA_CALL_GAS;
        assembly ("memory-safe") {
            out := mload(0x40)
            mstore(out, 0) // default: ""
            mstore(0x00, _selector)
            let ok := staticcall(callGas, _token, 0x00, 0x04, 0x00, 0x00)
            let size := returndatasize()
            switch and(ok, eq(size, 0x20))
            case 1 {
                // bytes32: length = index of the first zero byte.
                returndatacopy(0x00, 0x00, 0x20)
                let word := mload(0x00)
                let len := 0
                for { } and(lt(len, 0x20), iszero(iszero(byte(len, word)))) { } { len := add(len, 1) }
                mstore(out, len)
                mstore(add(out, 0x20), and(word, not(shr(mul(len, 8), not(0)))))
                mstore(0x40, add(out, 0x40))
            }
            default {
                if and(ok, iszero(lt(size, 0x40))) {
                    returndatacopy(0x00, 0x00, 0x40)
                    let offset := mload(0x00)
                    let len := mload(0x20)
                    // Well-formed (offset 0x20, data within the return data) and not too long.
                    if and(eq(offset, 0x20), and(iszero(gt(len, maxLen)), iszero(gt(add(0x40, len), size)))) {
                        mstore(out, len)
                        returndatacopy(add(out, 0x20), 0x40, len)
                        // Zero the padding of the last word, then bump the free memory pointer.
                        let end := add(add(out, 0x20), len)
                        mstore(end, 0)
                        mstore(0x40, and(add(end, 0x3f), not(0x1f)))
                    }
                }
                if iszero(mload(out)) { mstore(0x40, add(out, 0x20)) }
            }
        }
    }

    /// @dev `decimals()` of `_token` if it answers with a value below 256; 18 otherwise.
    function _metadataDecimals(address _token) internal view returns (uint8 decimals) {
        uint256 callGas = METADATA_CALL_GAS;
        assembly ("memory-safe") {
            decimals := 18
            mstore(0x00, 0x313ce56700000000000000000000000000000000000000000000000000000000) // decimals()
            let ok := staticcall(callGas, _token, 0x00, 0x04, 0x00, 0x20)
            if and(ok, iszero(lt(returndatasize(), 0x20))) {
                let value := mload(0x00)
                if lt(value, 0x100) { decimals := value }
            }
        }
    }

    /// @dev As OP's `EOA.isSenderEOA`: the caller is the transaction origin, or an EOA with an
    ///      EIP-7702 delegation (code `0xef0100 ‖ address`, 23 bytes).
    function _isSenderEOA() internal view returns (bool) {
        if (msg.sender == tx.origin) return true;
        address sender = msg.sender;
        if (sender.code.length != 23) return false;
        bytes3 prefix;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            extcodecopy(sender, ptr, 0, 3)
            prefix := mload(ptr)
        }
        return prefix == 0xef0100;
    }
}
