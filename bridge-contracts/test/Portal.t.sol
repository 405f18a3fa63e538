// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Portal } from "../src/Portal.sol";
import { TestBase, Vm } from "./lib/Vm.sol";

contract PortalTest is TestBase {
    event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData);

    Portal internal portal;
    address internal alice;
    address internal bob;

    function setUp() public {
        alice = vm.addr(0xA11CE);
        bob = vm.addr(0xB0B);
        vm.label(alice, "alice");
        vm.label(bob, "bob");
        portal = new Portal();
    }

    /// @dev Splits OP's v0 opaque data: mint (32) ‖ value (32) ‖ gasLimit (8) ‖ isCreation (1) ‖ data.
    function decodeOpaque(bytes calldata opaque)
        external
        pure
        returns (uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes memory data)
    {
        require(opaque.length >= 73, "short opaque data");
        mint = uint256(bytes32(opaque[0:32]));
        value = uint256(bytes32(opaque[32:64]));
        gasLimit = uint64(bytes8(opaque[64:72]));
        require(uint8(opaque[72]) <= 1, "bad bool");
        isCreation = opaque[72] != 0;
        data = opaque[73:];
    }

    function test_deposit_fromEoa_emitsOpEncoding() public {
        vm.deal(alice, 2 ether);
        bytes memory data = hex"deadbeef";
        vm.expectEmit(true, true, true, true, address(portal));
        emit TransactionDeposited(
            alice, bob, 0, abi.encodePacked(uint256(1 ether), uint256(0.5 ether), uint64(100_000), false, data)
        );
        vm.prank(alice, alice);
        portal.depositTransaction{ value: 1 ether }(bob, 0.5 ether, 100_000, false, data);
        vm.assertEq(address(portal).balance, 1 ether);
        vm.assertEq(alice.balance, 1 ether);
        vm.assertEq(portal.depositCount(), 1);
    }

    function test_deposit_fromContract_isAliased() public {
        address aliased = address(uint160(address(this)) + uint160(0x1111000000000000000000000000000000001111));
        vm.assertEq(portal.applyL1ToL2Alias(address(this)), aliased);
        vm.expectEmit(true, true, true, true, address(portal));
        emit TransactionDeposited(aliased, bob, 0, abi.encodePacked(uint256(0), uint256(0), uint64(21_000), false));
        // msg.sender (this contract) != tx.origin (forge's default sender).
        portal.depositTransaction(bob, 0, 21_000, false, "");
    }

    function test_deposit_from7702DelegatedEoa_isNotAliased() public {
        vm.etch(alice, abi.encodePacked(hex"ef0100", address(0x1234)));
        vm.expectEmit(true, true, true, true, address(portal));
        emit TransactionDeposited(alice, bob, 0, abi.encodePacked(uint256(0), uint256(0), uint64(21_000), false));
        vm.prank(alice); // tx.origin stays forge's default sender
        portal.depositTransaction(bob, 0, 21_000, false, "");
    }

    function test_alias_wrapsAround() public view {
        vm.assertEq(
            portal.applyL1ToL2Alias(address(type(uint160).max)), address(0x1111000000000000000000000000000000001110)
        );
    }

    function test_creation_requiresZeroTarget() public {
        vm.expectRevert(Portal.BadTarget.selector);
        portal.depositTransaction(bob, 0, 1_000_000, true, hex"6000");

        vm.recordLogs();
        portal.depositTransaction(address(0), 0, 1_000_000, true, hex"6000");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(logs.length, 1);
        vm.assertEq(logs[0].topics[2], bytes32(0));
    }

    function test_smallGasLimit_reverts() public {
        vm.expectRevert(Portal.SmallGasLimit.selector);
        portal.depositTransaction(bob, 0, 20_999, false, "");
        vm.expectRevert(Portal.SmallGasLimit.selector);
        portal.depositTransaction(bob, 0, 21_000 + 40 * 4 - 1, false, hex"01020304");
        portal.depositTransaction(bob, 0, 21_000 + 40 * 4, false, hex"01020304");
    }

    function test_largeCalldata_reverts() public {
        bytes memory big = new bytes(120_001);
        vm.expectRevert(Portal.LargeCalldata.selector);
        portal.depositTransaction(bob, 0, 10_000_000, false, big);
        bytes memory max = new bytes(120_000);
        portal.depositTransaction(bob, 0, 10_000_000, false, max);
        vm.assertEq(portal.depositCount(), 1);
    }

    function test_receive_depositsToSender() public {
        vm.deal(alice, 1 ether);
        vm.expectEmit(true, true, true, true, address(portal));
        emit TransactionDeposited(
            alice, alice, 0, abi.encodePacked(uint256(0.25 ether), uint256(0.25 ether), uint64(100_000), false)
        );
        vm.prank(alice, alice);
        (bool ok,) = address(portal).call{ value: 0.25 ether }("");
        vm.assertTrue(ok);
        vm.assertEq(address(portal).balance, 0.25 ether);
    }

    /// @dev Gas of a typical ETH deposit from an EOA (for docs/contracts.md).
    function test_gas_depositTransaction() public {
        vm.deal(alice, 2 ether);
        vm.prank(alice, alice);
        portal.depositTransaction{ value: 1 ether }(bob, 0, 100_000, false, "");
        // A later deposit: `depositCount` is already non-zero.
        vm.prank(alice, alice);
        portal.depositTransaction{ value: 1 ether }(bob, 0, 100_000, false, "");
    }

    function testFuzz_opaqueData_roundTrips(
        uint256 mint,
        uint256 value,
        uint64 gasLimit,
        bool isCreation,
        address to,
        bytes memory data
    ) public {
        vm.assume(data.length <= 2_000);
        mint = bound(mint, 0, 1_000_000 ether);
        gasLimit = uint64(bound(gasLimit, portal.minimumGasLimit(uint64(data.length)), type(uint64).max));
        if (isCreation) to = address(0);
        vm.deal(alice, mint);

        vm.recordLogs();
        vm.prank(alice, alice);
        portal.depositTransaction{ value: mint }(to, value, gasLimit, isCreation, data);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        vm.assertEq(logs.length, 1);
        vm.assertEq(logs[0].emitter, address(portal));
        vm.assertEq(logs[0].topics.length, 4);
        vm.assertEq(logs[0].topics[0], TransactionDeposited.selector);
        vm.assertEq(logs[0].topics[1], bytes32(uint256(uint160(alice))));
        vm.assertEq(logs[0].topics[2], bytes32(uint256(uint160(to))));
        vm.assertEq(logs[0].topics[3], bytes32(0));
        bytes memory opaque = abi.decode(logs[0].data, (bytes));
        vm.assertEq(opaque.length, 73 + data.length);
        (uint256 m, uint256 v, uint64 g, bool c, bytes memory d) = this.decodeOpaque(opaque);
        vm.assertEq(m, mint);
        vm.assertEq(v, value);
        vm.assertEq(uint256(g), uint256(gasLimit));
        vm.assertEq(c, isCreation);
        vm.assertEq(d, data);
        vm.assertEq(address(portal).balance, mint);
    }

    function testFuzz_minimumGasLimit_enforced(uint64 gasLimit, uint16 len) public {
        uint256 n = bound(len, 0, 4_000);
        bytes memory data = new bytes(n);
        uint64 min = portal.minimumGasLimit(uint64(n));
        vm.assertEq(uint256(min), n * 40 + 21_000);
        gasLimit = uint64(bound(gasLimit, 0, 2 * uint256(min)));
        if (gasLimit < min) vm.expectRevert(Portal.SmallGasLimit.selector);
        portal.depositTransaction(bob, 0, gasLimit, false, data);
    }
}
