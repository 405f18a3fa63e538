// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { BlinkMintableERC20 } from "../src/BlinkMintableERC20.sol";
import { L1StandardBridge } from "../src/L1StandardBridge.sol";
import { L2StandardBridge } from "../src/L2StandardBridge.sol";
import { Portal } from "../src/Portal.sol";
import { TestToken } from "../src/TestToken.sol";
import { TestBase, Vm } from "./lib/Vm.sol";

/// @dev An old-style token: `name`/`symbol` return `bytes32`, no `decimals`.
contract Bytes32MetadataToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    function name() external pure returns (bytes32) {
        return "Maker";
    }

    function symbol() external pure returns (bytes32) {
        return "MKR";
    }

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        return true;
    }

    // No return value, as USDT.
    function transferFrom(address from, address to, uint256 amount) external {
        allowance[from][msg.sender] -= amount;
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
    }
}

/// @dev Takes a 1% fee on every transfer; returns absurd metadata.
contract FeeOnTransferToken is TestToken {
    constructor() TestToken("Fee", "FEE", 0) { }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            super._update(from, address(0xFEE), value / 100);
            value -= value / 100;
        }
        super._update(from, to, value);
    }
}

/// @dev Returns malformed or oversized metadata.
contract WeirdMetadataToken is TestToken {
    constructor() TestToken("", "", 0) { }

    function name() public pure override returns (string memory) {
        // Longer than MAX_METADATA_LENGTH: dropped.
        return string(new bytes(300));
    }

    function symbol() public pure override returns (string memory) {
        // A return bomb: 1 MiB of return data must not cost the depositor.
        assembly {
            return(0, 0x100000)
        }
    }

    function decimals() public pure override returns (uint8) {
        assembly {
            mstore(0, 0x1000)
            return(0, 0x20)
        }
    }
}

/// @dev A contract depositor.
contract DepositingContract {
    function deposit(L1StandardBridge bridge, address l1Token, address l2Token, uint256 amount) external {
        TestToken(l1Token).approve(address(bridge), amount);
        bridge.depositERC20(l1Token, l2Token, amount, 0, "");
    }
}

contract StandardBridgeTest is TestBase {
    event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData);
    event ERC20DepositInitiated(
        address indexed l1Token,
        address indexed l2Token,
        address indexed from,
        address to,
        uint256 amount,
        bytes extraData
    );
    event DepositFinalized(
        address indexed l1Token,
        address indexed l2Token,
        address indexed from,
        address to,
        uint256 amount,
        bytes extraData
    );
    event L2TokenCreated(address indexed l1Token, address indexed l2Token);

    address internal constant L2_BRIDGE = 0x4200000000000000000000000000000000000010;
    uint160 internal constant ALIAS_OFFSET = uint160(0x1111000000000000000000000000000000001111);

    Portal internal portal;
    L1StandardBridge internal l1Bridge;
    L2StandardBridge internal l2Bridge = L2StandardBridge(L2_BRIDGE);
    TestToken internal token;
    address internal l1BridgeAlias;
    address internal alice;
    address internal bob;

    function setUp() public {
        alice = vm.addr(0xA11CE);
        bob = vm.addr(0xB0B);
        vm.label(alice, "alice");
        vm.label(bob, "bob");
        portal = new Portal();
        l1Bridge = new L1StandardBridge(portal, L2_BRIDGE);
        l1BridgeAlias = address(uint160(address(l1Bridge)) + ALIAS_OFFSET);
        // The L2 bridge as the genesis has it: runtime code, slot 0 = the L1 bridge.
        vm.etch(L2_BRIDGE, address(new L2StandardBridge()).code);
        vm.store(L2_BRIDGE, bytes32(uint256(0)), bytes32(uint256(uint160(address(l1Bridge)))));
        token = new TestToken("Blink Test Token", "BTT", 0);
        token.mint(alice, 1_000_000 ether);
        vm.prank(alice);
        token.approve(address(l1Bridge), type(uint256).max);
    }

    function _message(
        address l1Token,
        address from,
        address to,
        uint256 amount,
        string memory name,
        string memory symbol,
        uint8 decimals,
        bytes memory extraData
    ) internal view returns (bytes memory) {
        return abi.encodeCall(
            L2StandardBridge.finalizeDeposit,
            (l1Token, l1Bridge.l2TokenFor(l1Token), from, to, amount, name, symbol, decimals, extraData)
        );
    }

    /// @dev Relays the deposited transaction of the last `TransactionDeposited` in `logs` on "L2":
    ///      checks it targets the L2 bridge from the L1 bridge's alias, then calls with its data.
    function _relay(Vm.Log[] memory logs) internal returns (bool ok, uint64 gasLimit) {
        for (uint256 i = logs.length; i > 0; i--) {
            Vm.Log memory log = logs[i - 1];
            if (log.emitter != address(portal) || log.topics[0] != TransactionDeposited.selector) continue;
            vm.assertEq(log.topics[1], bytes32(uint256(uint160(l1BridgeAlias))));
            vm.assertEq(log.topics[2], bytes32(uint256(uint160(L2_BRIDGE))));
            bytes memory opaque = abi.decode(log.data, (bytes));
            bytes memory data;
            (gasLimit, data) = this.splitOpaque(opaque);
            vm.prank(l1BridgeAlias);
            (ok,) = L2_BRIDGE.call{ gas: gasLimit }(data);
            return (ok, gasLimit);
        }
        revert("no deposit");
    }

    function splitOpaque(bytes calldata opaque) external pure returns (uint64 gasLimit, bytes memory data) {
        require(uint256(bytes32(opaque[0:32])) == 0, "mint");
        require(uint256(bytes32(opaque[32:64])) == 0, "value");
        require(opaque[72] == 0, "creation");
        gasLimit = uint64(bytes8(opaque[64:72]));
        data = opaque[73:];
    }

    // ---- L1 side ----

    function testFuzz_l2TokenFor_agreesWithL2(address l1Token) public view {
        vm.assertEq(l1Bridge.l2TokenFor(l1Token), l2Bridge.l2TokenFor(l1Token));
        vm.assertEq(l1Bridge.L2_TOKEN_INIT_CODE_HASH(), keccak256(type(BlinkMintableERC20).creationCode));
    }

    function test_immutables() public view {
        vm.assertEq(address(l1Bridge.PORTAL()), address(portal));
        vm.assertEq(address(l1Bridge.portal()), address(portal));
        vm.assertEq(l1Bridge.OTHER_BRIDGE(), L2_BRIDGE);
        vm.assertEq(l1Bridge.otherBridge(), L2_BRIDGE);
        vm.assertEq(l2Bridge.otherBridge(), address(l1Bridge));
    }

    function testFuzz_depositERC20To_locksAndEmitsExactDeposit(
        address to,
        uint256 amount,
        uint32 minGasLimit,
        bytes memory extraData
    ) public {
        vm.assume(to != address(0) && extraData.length <= 1_000);
        amount = bound(amount, 0, 1_000_000 ether);
        address l2Token = l1Bridge.l2TokenFor(address(token));
        bytes memory message = _message(address(token), alice, to, amount, "Blink Test Token", "BTT", 18, extraData);
        uint256 floor = 2_000_000 + 40 * message.length;
        uint64 gasLimit = uint64(minGasLimit > floor ? minGasLimit : floor);
        vm.assertEq(uint256(l1Bridge.l2GasLimit(minGasLimit, message.length)), uint256(gasLimit));
        if (gasLimit > portal.MAX_DEPOSIT_GAS()) {
            // Above the L2 per-transaction cap: the Portal refuses the deposit.
            vm.prank(alice);
            vm.expectRevert(Portal.GasLimitTooHigh.selector);
            l1Bridge.depositERC20To(address(token), l2Token, to, amount, minGasLimit, extraData);
            return;
        }

        vm.expectEmit(true, true, true, true, address(l1Bridge));
        emit ERC20DepositInitiated(address(token), l2Token, alice, to, amount, extraData);
        vm.expectEmit(true, true, true, true, address(portal));
        emit TransactionDeposited(
            l1BridgeAlias, L2_BRIDGE, 0, abi.encodePacked(uint256(0), uint256(0), gasLimit, false, message)
        );
        vm.prank(alice);
        l1Bridge.depositERC20To(address(token), l2Token, to, amount, minGasLimit, extraData);

        vm.assertEq(token.balanceOf(address(l1Bridge)), amount);
        vm.assertEq(token.balanceOf(alice), 1_000_000 ether - amount);
        vm.assertEq(l1Bridge.deposits(address(token), l2Token), amount);
        vm.assertEq(portal.depositCount(), 1);
    }

    function test_depositERC20_sendsToSender() public {
        address l2Token = l1Bridge.l2TokenFor(address(token));
        vm.expectEmit(true, true, true, true, address(l1Bridge));
        emit ERC20DepositInitiated(address(token), l2Token, alice, alice, 5 ether, hex"01");
        vm.prank(alice, alice);
        l1Bridge.depositERC20(address(token), l2Token, 5 ether, 200_000, hex"01");
        vm.assertEq(l1Bridge.deposits(address(token), l2Token), 5 ether);
    }

    function test_depositERC20_fromContract_reverts() public {
        DepositingContract depositor = new DepositingContract();
        token.mint(address(depositor), 1 ether);
        address l2Token = l1Bridge.l2TokenFor(address(token));
        vm.expectRevert(L1StandardBridge.OnlyEOA.selector);
        depositor.deposit(l1Bridge, address(token), l2Token, 1 ether);
    }

    function test_depositERC20_from7702DelegatedEoa_ok() public {
        vm.etch(alice, abi.encodePacked(hex"ef0100", address(0x1234)));
        address l2Token = l1Bridge.l2TokenFor(address(token));
        vm.prank(alice); // tx.origin stays forge's default sender
        l1Bridge.depositERC20(address(token), l2Token, 1 ether, 0, "");
        vm.assertEq(l1Bridge.deposits(address(token), l2Token), 1 ether);
    }

    function testFuzz_wrongL2Token_reverts(address l2Token) public {
        vm.assume(l2Token != l1Bridge.l2TokenFor(address(token)));
        vm.prank(alice, alice);
        vm.expectRevert(L1StandardBridge.WrongL2Token.selector);
        l1Bridge.depositERC20(address(token), l2Token, 1 ether, 0, "");
    }

    function test_zeroRecipient_reverts() public {
        address l2Token = l1Bridge.l2TokenFor(address(token));
        vm.prank(alice);
        vm.expectRevert(L1StandardBridge.ZeroRecipient.selector);
        l1Bridge.depositERC20To(address(token), l2Token, address(0), 1 ether, 0, "");
    }

    function test_noAllowance_reverts() public {
        address l2Token = l1Bridge.l2TokenFor(address(token));
        token.mint(bob, 1 ether);
        vm.prank(bob, bob);
        vm.expectRevert();
        l1Bridge.depositERC20(address(token), l2Token, 1 ether, 0, "");
    }

    function test_tokenWithoutCode_reverts() public {
        address notAToken = address(0xdead);
        address l2Token = l1Bridge.l2TokenFor(notAToken);
        vm.prank(alice, alice);
        vm.expectRevert();
        l1Bridge.depositERC20(notAToken, l2Token, 1, 0, "");
    }

    function test_feeOnTransfer_reverts() public {
        FeeOnTransferToken fot = new FeeOnTransferToken();
        fot.mint(alice, 100 ether);
        vm.startPrank(alice, alice);
        fot.approve(address(l1Bridge), 100 ether);
        address l2Token = l1Bridge.l2TokenFor(address(fot));
        vm.expectRevert(L1StandardBridge.UnsupportedToken.selector);
        l1Bridge.depositERC20(address(fot), l2Token, 100 ether, 0, "");
        vm.stopPrank();
    }

    function test_metadata_bytes32AndMissingDecimals() public {
        Bytes32MetadataToken mkr = new Bytes32MetadataToken();
        mkr.mint(alice, 10 ether);
        vm.prank(alice);
        mkr.approve(address(l1Bridge), 10 ether);
        address l2Token = l1Bridge.l2TokenFor(address(mkr));
        vm.expectEmit(true, true, true, true, address(portal));
        bytes memory message = _message(address(mkr), alice, bob, 10 ether, "Maker", "MKR", 18, "");
        emit TransactionDeposited(
            l1BridgeAlias,
            L2_BRIDGE,
            0,
            abi.encodePacked(uint256(0), uint256(0), l1Bridge.l2GasLimit(0, message.length), false, message)
        );
        vm.recordLogs();
        vm.prank(alice);
        l1Bridge.depositERC20To(address(mkr), l2Token, bob, 10 ether, 0, "");
        vm.assertEq(mkr.balanceOf(address(l1Bridge)), 10 ether);

        (bool ok,) = _relay(vm.getRecordedLogs());
        vm.assertTrue(ok);
        vm.assertEq(BlinkMintableERC20(l2Token).name(), "Maker");
        vm.assertEq(BlinkMintableERC20(l2Token).symbol(), "MKR");
        vm.assertEq(uint256(BlinkMintableERC20(l2Token).decimals()), 18);
        vm.assertEq(BlinkMintableERC20(l2Token).balanceOf(bob), 10 ether);
    }

    function test_metadata_oversizedAndBombs_fallBack() public {
        // An L1 base fee far above the deposit base fee: the Portal's metering burns nothing, so
        // the gas measured below is the bridge's own work.
        vm.fee(1_000 gwei);
        WeirdMetadataToken weird = new WeirdMetadataToken();
        weird.mint(alice, 1 ether);
        vm.prank(alice);
        weird.approve(address(l1Bridge), 1 ether);
        address l2Token = l1Bridge.l2TokenFor(address(weird));
        bytes memory message = _message(address(weird), alice, bob, 1 ether, "", "", 18, "");
        vm.expectEmit(true, true, true, true, address(portal));
        emit TransactionDeposited(
            l1BridgeAlias,
            L2_BRIDGE,
            0,
            abi.encodePacked(uint256(0), uint256(0), l1Bridge.l2GasLimit(0, message.length), false, message)
        );
        vm.prank(alice);
        uint256 gasBefore = gasleft();
        l1Bridge.depositERC20To(address(weird), l2Token, bob, 1 ether, 0, "");
        // The 1 MiB symbol is never copied into memory (that alone would cost ~2.2M gas).
        vm.assertTrue(gasBefore - gasleft() < 1_000_000);
    }

    // ---- L2 side ----

    function testFuzz_finalizeDeposit_wrongCaller_reverts(address caller) public {
        vm.assume(caller != l1BridgeAlias);
        address l2Token = l2Bridge.l2TokenFor(address(token));
        vm.prank(caller);
        vm.expectRevert(L2StandardBridge.OnlyOtherBridge.selector);
        l2Bridge.finalizeDeposit(address(token), l2Token, alice, bob, 1, "n", "s", 18, "");
    }

    function test_finalizeDeposit_l1BridgeUnaliased_reverts() public {
        address l2Token = l2Bridge.l2TokenFor(address(token));
        vm.prank(address(l1Bridge));
        vm.expectRevert(L2StandardBridge.OnlyOtherBridge.selector);
        l2Bridge.finalizeDeposit(address(token), l2Token, alice, bob, 1, "n", "s", 18, "");
    }

    function testFuzz_finalizeDeposit_wrongL2Token_reverts(address l2Token) public {
        vm.assume(l2Token != l2Bridge.l2TokenFor(address(token)));
        vm.prank(l1BridgeAlias);
        vm.expectRevert(L2StandardBridge.WrongL2Token.selector);
        l2Bridge.finalizeDeposit(address(token), l2Token, alice, bob, 1, "n", "s", 18, "");
    }

    function testFuzz_finalizeDeposit_createsOnceAndMints(
        address l1Token,
        address to,
        uint256 first,
        uint256 second,
        uint8 decimals
    ) public {
        vm.assume(l1Token != address(0) && to != address(0));
        first = bound(first, 0, type(uint128).max);
        second = bound(second, 0, type(uint128).max);
        address l2Token = l2Bridge.l2TokenFor(l1Token);
        vm.assertEq(l2Token.code.length, 0);

        vm.expectEmit(true, true, true, true, L2_BRIDGE);
        emit L2TokenCreated(l1Token, l2Token);
        vm.expectEmit(true, true, true, true, L2_BRIDGE);
        emit DepositFinalized(l1Token, l2Token, alice, to, first, hex"abcd");
        vm.prank(l1BridgeAlias);
        l2Bridge.finalizeDeposit(l1Token, l2Token, alice, to, first, "Name", "SYM", decimals, hex"abcd");

        BlinkMintableERC20 l2 = BlinkMintableERC20(l2Token);
        vm.assertTrue(l2Token.code.length > 0);
        vm.assertEq(l2.REMOTE_TOKEN(), l1Token);
        vm.assertEq(l2.BRIDGE(), L2_BRIDGE);
        vm.assertEq(l2.name(), "Name");
        vm.assertEq(l2.symbol(), "SYM");
        vm.assertEq(uint256(l2.decimals()), uint256(decimals));
        vm.assertEq(l2.balanceOf(to), first);

        // A later deposit mints into the same token; its metadata arguments are ignored.
        vm.recordLogs();
        vm.prank(l1BridgeAlias);
        l2Bridge.finalizeDeposit(l1Token, l2Token, bob, to, second, "Other", "OTH", 3, "");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; i++) {
            vm.assertTrue(logs[i].topics[0] != L2TokenCreated.selector);
        }
        vm.assertEq(l2.balanceOf(to), first + second);
        vm.assertEq(l2.totalSupply(), first + second);
        vm.assertEq(l2.name(), "Name");
        vm.assertEq(uint256(l2.decimals()), uint256(decimals));
    }

    function test_l2Token_onlyBridgeMints() public {
        address l2Token = l2Bridge.l2TokenFor(address(token));
        vm.prank(l1BridgeAlias);
        l2Bridge.finalizeDeposit(address(token), l2Token, alice, bob, 1, "n", "s", 18, "");
        vm.prank(l1BridgeAlias);
        vm.expectRevert(BlinkMintableERC20.OnlyBridge.selector);
        BlinkMintableERC20(l2Token).mint(bob, 1);
        vm.expectRevert(BlinkMintableERC20.AlreadyInitialized.selector);
        vm.prank(L2_BRIDGE);
        BlinkMintableERC20(l2Token).initialize(address(1), "x", "y", 1);
    }

    // ---- Both sides ----

    function testFuzz_roundTrip_l1DepositMintsOnL2(address to, uint256 amount, bytes memory extraData) public {
        vm.assume(to != address(0) && extraData.length <= 2_000);
        amount = bound(amount, 1, 1_000_000 ether);
        address l2Token = l1Bridge.l2TokenFor(address(token));

        for (uint256 round = 1; round <= 2; round++) {
            vm.recordLogs();
            vm.prank(alice);
            l1Bridge.depositERC20To(address(token), l2Token, to, amount / 2, 0, extraData);
            Vm.Log[] memory logs = vm.getRecordedLogs();
            vm.expectEmit(true, true, true, true, L2_BRIDGE);
            emit DepositFinalized(address(token), l2Token, alice, to, amount / 2, extraData);
            (bool ok,) = _relay(logs);
            vm.assertTrue(ok);
            vm.assertEq(BlinkMintableERC20(l2Token).balanceOf(to), round * (amount / 2));
        }
        vm.assertEq(token.balanceOf(address(l1Bridge)), 2 * (amount / 2));
        vm.assertEq(BlinkMintableERC20(l2Token).totalSupply(), l1Bridge.deposits(address(token), l2Token));
        vm.assertEq(BlinkMintableERC20(l2Token).name(), "Blink Test Token");
        vm.assertEq(BlinkMintableERC20(l2Token).symbol(), "BTT");
    }

    /// @dev The floor is enough: the first deposit (token creation + mint) succeeds with exactly
    ///      the gas limit the L1 bridge sets, even with long metadata, and uses well under it.
    function test_gasFloor_coversCreation() public {
        WeirdMetadataToken weird = new WeirdMetadataToken();
        address l2Token = l2Bridge.l2TokenFor(address(weird));
        string memory long = string(new bytes(256));
        bytes memory data = abi.encodeCall(
            L2StandardBridge.finalizeDeposit, (address(weird), l2Token, alice, bob, 1, long, long, 18, "")
        );
        uint64 gasLimit = l1Bridge.l2GasLimit(0, data.length);
        vm.prank(l1BridgeAlias);
        uint256 before = gasleft();
        (bool ok,) = L2_BRIDGE.call{ gas: gasLimit }(data);
        uint256 used = before - gasleft();
        vm.assertTrue(ok);
        vm.assertTrue(used * 2 < gasLimit);
    }

    // ---- Gas (docs/contracts.md) ----

    function test_gas_depositERC20() public {
        address l2Token = l1Bridge.l2TokenFor(address(token));
        vm.prank(alice, alice);
        l1Bridge.depositERC20(address(token), l2Token, 1 ether, 0, "");
        vm.prank(alice, alice);
        l1Bridge.depositERC20(address(token), l2Token, 1 ether, 0, "");
    }

    function test_gas_finalizeDeposit() public {
        address l2Token = l2Bridge.l2TokenFor(address(token));
        vm.prank(l1BridgeAlias);
        l2Bridge.finalizeDeposit(address(token), l2Token, alice, alice, 1 ether, "Blink Test Token", "BTT", 18, "");
        vm.prank(l1BridgeAlias);
        l2Bridge.finalizeDeposit(address(token), l2Token, alice, alice, 1 ether, "Blink Test Token", "BTT", 18, "");
    }
}
