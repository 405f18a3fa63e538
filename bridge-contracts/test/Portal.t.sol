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

    /// @dev The fields of a deposit hash (a struct keeps the tests within the stack).
    struct Dep {
        uint256 index;
        uint256 l1Block;
        address from;
        address to;
        uint256 mint;
        uint256 value;
        uint64 gasLimit;
        bool isCreation;
    }

    /// @dev The deposit hash layout, written out with `abi.encode` of the documented fields.
    function _depositHash(Dep memory d, bytes memory data) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                uint64(d.index),
                uint64(d.l1Block),
                d.from,
                d.to,
                d.mint,
                d.value,
                d.gasLimit,
                d.isCreation,
                keccak256(data),
                uint32(data.length)
            )
        );
    }

    function test_depositHashes_layoutAndCount() public {
        vm.roll(77);
        vm.deal(alice, 2 ether);
        vm.prank(alice, alice);
        portal.depositTransaction{ value: 1 ether }(bob, 5, 100_000, false, hex"deadbeef");
        vm.assertEq(portal.depositCount(), 1);
        vm.assertEq(
            portal.depositHashes(0), _depositHash(Dep(0, 77, alice, bob, 1 ether, 5, 100_000, false), hex"deadbeef")
        );
        // the word layout itself: 10 words, the first two the index and the L1 block
        bytes memory enc = abi.encode(
            uint64(0),
            uint64(77),
            alice,
            bob,
            uint256(1 ether),
            uint256(5),
            uint64(100_000),
            false,
            keccak256(hex"deadbeef"),
            uint32(4)
        );
        vm.assertEq(enc.length, 320);
        vm.assertEq(portal.depositHashes(0), keccak256(enc));

        // a contract caller is aliased, exactly as in the event; a creation has `to` 0
        vm.roll(78);
        vm.prank(address(this), alice);
        portal.depositTransaction(address(0), 0, 100_000, true, hex"60");
        vm.assertEq(portal.depositCount(), 2);
        vm.assertEq(
            portal.depositHashes(1),
            _depositHash(Dep(1, 78, portal.applyL1ToL2Alias(address(this)), address(0), 0, 0, 100_000, true), hex"60")
        );
        vm.assertEq(portal.depositHashes(2), bytes32(0));
    }

    function testFuzz_depositHashes(
        uint96 mint,
        uint256 value,
        uint32 gasSeed,
        bytes calldata data,
        uint64 l1Block,
        uint8 before
    ) public {
        vm.assume(data.length <= 2_000);
        vm.fee(1_000 gwei); // small burns
        uint64 gasLimit = uint64(bound(gasSeed, portal.minimumGasLimit(uint64(data.length)), 1_000_000));
        for (uint256 i; i < before % 3; ++i) {
            vm.prank(alice, alice);
            portal.depositTransaction(bob, 0, 21_000, false, "");
        }
        vm.roll(bound(l1Block, block.number, type(uint64).max));
        uint256 index = before % 3;
        vm.deal(alice, mint);
        vm.prank(alice, alice);
        portal.depositTransaction{ value: mint }(bob, value, gasLimit, false, data);
        vm.assertEq(portal.depositCount(), index + 1);
        vm.assertEq(
            portal.depositHashes(index),
            _depositHash(Dep(index, vm.getBlockNumber(), alice, bob, mint, value, gasLimit, false), data)
        );
    }

    // ---- Gas (docs/contracts.md): `forge test --gas-report --match-test <one test_gas_ test>` ----
    // The gas report runs every call as its own transaction with an L1 base fee of 0 (a `vm.fee`
    // does not reach it), so these show the 1 gwei floor case; `tests/it/portal.rs` prints
    // the figures at other L1 base fees.

    /// @dev A typical ETH deposit from an EOA: 1 ETH, 100k L2 gas, no data. L1 base fee 0 (forge's
    ///      default), so the 1 gwei floor applies: the metering burns up to 100k gas.
    function test_gas_depositTransaction() public {
        vm.deal(alice, 2 ether);
        vm.prank(alice, alice);
        portal.depositTransaction{ value: 1 ether }(bob, 0, 100_000, false, "");
        // A later deposit: `depositCount` is already non-zero.
        vm.prank(alice, alice);
        portal.depositTransaction{ value: 1 ether }(bob, 0, 100_000, false, "");
    }

    /// @dev An L2 call with 1 KB of calldata and 100k L2 gas, L1 base fee at most 1 gwei.
    function test_gas_depositTransaction_1kCalldata() public {
        bytes memory data = _kilobyte();
        vm.prank(alice, alice);
        portal.depositTransaction(bob, 0, 100_000, false, data);
        vm.prank(alice, alice);
        portal.depositTransaction(bob, 0, 100_000, false, data);
    }

    function _kilobyte() internal pure returns (bytes memory data) {
        data = new bytes(1024);
        for (uint256 i = 0; i < 1024; i++) {
            data[i] = bytes1(uint8((i % 251) + 1));
        }
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
        gasLimit = uint64(bound(gasLimit, portal.minimumGasLimit(uint64(data.length)), portal.MAX_DEPOSIT_GAS()));
        if (isCreation) to = address(0);
        vm.deal(alice, mint);
        // A high L1 base fee keeps the metering burn (real gas, run by forge) small.
        vm.fee(1_000 gwei);

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

    // ---- Resource metering ----

    uint256 internal constant MAX_RESOURCE_LIMIT = 20_000_000;
    uint256 internal constant TARGET = 2_000_000; // MAX_RESOURCE_LIMIT / ELASTICITY_MULTIPLIER
    uint64 internal constant MAX_DEPOSIT_GAS = 16_777_216;

    /// @dev Buys `_gas` (0 or >= 21000 and not ending in a remainder below 21000) in this L1 block.
    function _buy(uint256 _gas) internal {
        while (_gas > 0) {
            uint256 g = _gas > MAX_DEPOSIT_GAS ? MAX_DEPOSIT_GAS : _gas;
            if (_gas - g != 0 && _gas - g < 21_000) g -= 21_000;
            portal.depositTransaction(bob, 0, uint64(g), false, "");
            _gas -= g;
        }
    }

    /// @dev The L1 gas a deposit of `_gasLimit` L2 gas costs this contract (call included).
    function _depositGas(uint64 _gasLimit) internal returns (uint256 used) {
        uint256 before = gasleft();
        portal.depositTransaction(bob, 0, _gasLimit, false, "");
        used = before - gasleft();
    }

    /// @dev One EIP-1559 step of OP's formula, written out independently of the contract.
    function _step(uint256 _fee, uint256 _bought) internal pure returns (uint256) {
        int256 f = int256(_fee);
        int256 next = f + (f * (int256(_bought) - int256(TARGET))) / int256(TARGET * 8);
        if (next < 1 gwei) return 1 gwei;
        if (next > int256(uint256(type(uint128).max))) return type(uint128).max;
        return uint256(next);
    }

    function _params() internal view returns (uint256 fee, uint256 bought, uint256 blockNum) {
        (uint128 f, uint64 b, uint64 n) = portal.params();
        return (f, b, n);
    }

    function test_metering_constants() public view {
        vm.assertEq(uint256(portal.MAX_RESOURCE_LIMIT()), 20_000_000);
        vm.assertEq(uint256(portal.ELASTICITY_MULTIPLIER()), 10);
        vm.assertEq(uint256(portal.BASE_FEE_MAX_CHANGE_DENOMINATOR()), 8);
        vm.assertEq(uint256(portal.MINIMUM_BASE_FEE()), 1 gwei);
        vm.assertEq(uint256(portal.MAXIMUM_BASE_FEE()), type(uint128).max);
        vm.assertEq(uint256(portal.MAX_DEPOSIT_GAS()), 1 << 24);
        vm.assertEq(uint256(portal.RECEIVE_DEFAULT_GAS_LIMIT()), 100_000);
        vm.assertEq(portal.BURN_L1_BASE_FEE_FLOOR(), 1 gwei);
    }

    function test_constructor_startsMarketAtMinimumFee() public {
        vm.roll(12_345);
        Portal fresh = new Portal();
        (uint128 fee, uint64 bought, uint64 blockNum) = fresh.params();
        vm.assertEq(uint256(fee), 1 gwei);
        vm.assertEq(uint256(bought), 0);
        vm.assertEq(uint256(blockNum), 12_345);
        vm.assertEq(fresh.depositBaseFee(), 1 gwei);
        // Blocks without deposits keep it at the minimum.
        vm.roll(20_000);
        vm.assertEq(fresh.depositBaseFee(), 1 gwei);
    }

    function test_gasLimitTooHigh_reverts() public {
        vm.expectRevert(Portal.GasLimitTooHigh.selector);
        portal.depositTransaction(bob, 0, MAX_DEPOSIT_GAS + 1, false, "");
        vm.expectRevert(Portal.GasLimitTooHigh.selector);
        portal.depositTransaction(bob, 0, type(uint64).max, false, "");
        // Exactly 2^24 is accepted (and bought).
        portal.depositTransaction(bob, 0, MAX_DEPOSIT_GAS, false, "");
        (, uint256 bought,) = _params();
        vm.assertEq(bought, MAX_DEPOSIT_GAS);
        vm.assertEq(portal.depositCount(), 1);
    }

    function test_outOfResources_reverts() public {
        vm.fee(1_000 gwei); // small burns
        portal.depositTransaction(bob, 0, MAX_DEPOSIT_GAS, false, "");
        vm.expectRevert(Portal.OutOfResources.selector);
        portal.depositTransaction(bob, 0, MAX_DEPOSIT_GAS, false, "");
        // Up to exactly MAX_RESOURCE_LIMIT...
        portal.depositTransaction(bob, 0, uint64(MAX_RESOURCE_LIMIT - MAX_DEPOSIT_GAS), false, "");
        (, uint256 bought,) = _params();
        vm.assertEq(bought, MAX_RESOURCE_LIMIT);
        // ...and not one deposit more in this L1 block.
        vm.expectRevert(Portal.OutOfResources.selector);
        portal.depositTransaction(bob, 0, 21_000, false, "");
        // The next L1 block sells gas again.
        vm.roll(block.number + 1);
        portal.depositTransaction(bob, 0, 21_000, false, "");
        (, bought,) = _params();
        vm.assertEq(bought, 21_000);
        vm.assertEq(portal.depositCount(), 3);
    }

    function test_receive_isMetered() public {
        vm.deal(alice, 1 ether);
        vm.prank(alice, alice);
        (bool ok,) = address(portal).call{ value: 0.1 ether }("");
        vm.assertTrue(ok);
        (, uint256 bought,) = _params();
        vm.assertEq(bought, 100_000);

        // Leave 99,999 gas in this block: a plain ETH deposit (100k) no longer fits.
        _buy(MAX_RESOURCE_LIMIT - 100_000 - 99_999);
        vm.prank(alice, alice);
        bytes memory reason;
        (ok, reason) = address(portal).call{ value: 0.1 ether }("");
        vm.assertFalse(ok);
        vm.assertEq(reason, abi.encodeWithSelector(Portal.OutOfResources.selector));
    }

    function test_baseFee_risesAfterFullBlock() public {
        vm.fee(1_000 gwei);
        uint256 start = block.number;
        _buy(MAX_RESOURCE_LIMIT);
        vm.roll(start + 1);
        // 1 gwei * (1 + (20M - 2M) / (2M * 8)) = 2.125 gwei: the largest rise.
        vm.assertEq(portal.depositBaseFee(), 2.125 gwei);
        portal.depositTransaction(bob, 0, 21_000, false, "");
        (uint256 fee, uint256 bought, uint256 blockNum) = _params();
        vm.assertEq(fee, 2.125 gwei);
        vm.assertEq(bought, 21_000);
        vm.assertEq(blockNum, start + 1);

        // A block at exactly the target keeps the fee.
        _buy(TARGET - 21_000);
        vm.roll(start + 2);
        vm.assertEq(portal.depositBaseFee(), 2.125 gwei);

        // Two more full blocks.
        _buy(MAX_RESOURCE_LIMIT);
        vm.roll(start + 3);
        _buy(MAX_RESOURCE_LIMIT);
        vm.roll(start + 4);
        vm.assertEq(portal.depositBaseFee(), _step(_step(2.125 gwei, MAX_RESOURCE_LIMIT), MAX_RESOURCE_LIMIT));
    }

    function test_baseFee_fallsAfterEmptyBlocks() public {
        vm.fee(1_000 gwei);
        uint256 expected = 1 gwei;
        for (uint256 i = 0; i < 4; i++) {
            _buy(MAX_RESOURCE_LIMIT);
            vm.roll(block.number + 1);
            expected = _step(expected, MAX_RESOURCE_LIMIT);
        }
        uint256 high = portal.depositBaseFee();
        vm.assertEq(high, expected);
        vm.assertGt(high, 20 gwei);

        // A block below the target lowers it by (target - bought) / target / 8.
        portal.depositTransaction(bob, 0, 21_000, false, "");
        uint256 last = block.number;
        vm.roll(last + 1);
        uint256 oneBlock = portal.depositBaseFee();
        vm.assertEq(oneBlock, _step(high, 21_000));
        vm.assertLt(oneBlock, high);

        // Four empty blocks after that: 7/8 each (OP's cdexp, fixed point).
        vm.roll(last + 5);
        uint256 fiveBlocks = portal.depositBaseFee();
        uint256 model = oneBlock;
        for (uint256 i = 0; i < 4; i++) {
            model = (model * 7) / 8;
        }
        vm.assertApproxEqRel(fiveBlocks, model, 1e9); // 1e-9 relative
        vm.assertLt(fiveBlocks, oneBlock);

        // The first deposit of the block stores the updated fee and resets the bought gas.
        portal.depositTransaction(bob, 0, 30_000, false, "");
        (uint256 fee, uint256 bought, uint256 blockNum) = _params();
        vm.assertEq(fee, fiveBlocks);
        vm.assertEq(bought, 30_000);
        vm.assertEq(blockNum, last + 5);

        // A long pause brings it back to the minimum, never below.
        vm.roll(last + 1_000);
        vm.assertEq(portal.depositBaseFee(), 1 gwei);
        vm.roll(last + 10_000_000);
        vm.assertEq(portal.depositBaseFee(), 1 gwei);
        portal.depositTransaction(bob, 0, 21_000, false, "");
        (fee,,) = _params();
        vm.assertEq(fee, 1 gwei);
    }

    /// @dev The L1 gas a deposit burns is `gasLimit * baseFee / max(block.basefee, 1 gwei)`
    ///      (counting the deposit's own work): it grows with the deposit base fee and shrinks as
    ///      the L1 base fee rises.
    function test_burn_growsWithBaseFee() public {
        // Deposit base fee 1 gwei, L1 base fee 0 (floor 1 gwei): 1M L2 gas costs 1M L1 gas.
        uint256 atMin = _depositGas(1_000_000);
        vm.assertGe(atMin, 1_000_000);
        vm.assertLe(atMin, 1_000_000 + 10_000);

        _buy(MAX_RESOURCE_LIMIT - 1_000_000);
        vm.roll(block.number + 1);
        vm.assertEq(portal.depositBaseFee(), 2.125 gwei);
        uint256 atHigher = _depositGas(1_000_000);
        vm.assertGe(atHigher, 2_125_000);
        vm.assertLe(atHigher, 2_125_000 + 10_000);

        // The same deposit at an L1 base fee of 10 gwei burns a tenth.
        vm.fee(10 gwei);
        uint256 atL1Fee = _depositGas(1_000_000);
        vm.assertGe(atL1Fee, 212_500);
        vm.assertLe(atL1Fee, 212_500 + 10_000);

        // The floor: an L1 base fee of 0.5 gwei counts as 1 gwei.
        vm.fee(0.5 gwei);
        uint256 belowFloor = _depositGas(1_000_000);
        vm.assertGe(belowFloor, 2_125_000);
        vm.assertLe(belowFloor, 2_125_000 + 10_000);

        // An L1 base fee far above the price: nothing left to burn beyond the deposit's work
        // (which includes the new `depositHashes` slot, 22.1k).
        vm.fee(10_000 gwei);
        uint256 cheap = _depositGas(1_000_000);
        vm.assertLt(cheap, 55_000);
    }

    function testFuzz_nextBaseFee_boundedSteps(uint128 prev, uint64 bought, uint256 blockDiff) public view {
        prev = uint128(bound(prev, 1 gwei, type(uint128).max));
        bought = uint64(bound(bought, 0, MAX_RESOURCE_LIMIT));
        blockDiff = bound(blockDiff, 1, 100_000);
        uint256 next = portal.nextBaseFee(prev, bought, blockDiff);
        vm.assertGe(next, 1 gwei);
        vm.assertLe(next, type(uint128).max);
        uint256 oneStep = portal.nextBaseFee(prev, bought, 1);
        vm.assertEq(oneStep, _step(prev, bought));
        if (bought > TARGET) {
            vm.assertGe(oneStep, prev);
            // At most +112.5% (a full block), clamped to the maximum.
            uint256 most = uint256(prev) + (uint256(prev) * 9) / 8;
            vm.assertLe(oneStep, most < type(uint128).max ? most : type(uint128).max);
        } else if (bought < TARGET) {
            vm.assertLe(oneStep, prev);
            // At most -12.5% (an empty block), clamped to the minimum.
            uint256 least = uint256(prev) - uint256(prev) / 8 - 1;
            vm.assertGe(oneStep, least > 1 gwei ? least : 1 gwei);
        } else {
            vm.assertEq(oneStep, prev);
        }
        // Empty blocks never raise it.
        vm.assertLe(next, oneStep);
    }

    /// @dev A random sequence of deposits and L1 blocks against a model: a deposit reverts with
    ///      `OutOfResources` exactly when its block would exceed `MAX_RESOURCE_LIMIT`, and the
    ///      stored state follows OP's update.
    function testFuzz_metering_matchesModel(uint256 seed) public {
        vm.fee(1_000 gwei);
        (uint256 fee, uint256 bought, uint256 blockNum) = _params();
        for (uint256 i = 0; i < 12; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint64 gasLimit = uint64(bound(r, 21_000, MAX_DEPOSIT_GAS));
            uint256 skip = (r >> 128) % 4 == 0 ? ((r >> 130) % 3) + 1 : 0;
            vm.roll(block.number + skip);

            uint256 expectedFee = fee;
            uint256 expectedBought = bought;
            if (block.number != blockNum) {
                uint256 diff = block.number - blockNum;
                expectedFee = _step(fee, bought);
                for (uint256 k = 1; k < diff; k++) {
                    expectedFee = (expectedFee * 7) / 8;
                }
                if (expectedFee < 1 gwei) expectedFee = 1 gwei;
                expectedBought = 0;
                vm.assertApproxEqRel(portal.depositBaseFee(), expectedFee, 1e9);
                if (diff == 1) vm.assertEq(portal.depositBaseFee(), expectedFee);
                expectedFee = portal.depositBaseFee();
            } else {
                vm.assertEq(portal.depositBaseFee(), fee);
            }

            if (expectedBought + gasLimit > MAX_RESOURCE_LIMIT) {
                vm.expectRevert(Portal.OutOfResources.selector);
                portal.depositTransaction(bob, 0, gasLimit, false, "");
                continue; // a reverted deposit changes nothing
            }
            portal.depositTransaction(bob, 0, gasLimit, false, "");
            (fee, bought, blockNum) = _params();
            vm.assertEq(fee, expectedFee);
            vm.assertEq(bought, expectedBought + gasLimit);
            vm.assertEq(blockNum, block.number);
        }
    }
}

/// @title PortalMeteringHandler
/// @notice Drives the Portal for the invariant test: deposits of any allowed size and L1 blocks
///         passing, while recording (ghost variables) what each L1 block bought.
contract PortalMeteringHandler is TestBase {
    /// @notice The Portal under test.
    Portal public immutable portal;
    /// @notice The L1 block `boughtInBlock` refers to.
    uint256 public currentBlock;
    /// @notice Gas bought by successful deposits in `currentBlock`.
    uint256 public boughtInBlock;
    /// @notice The most gas any one L1 block bought.
    uint256 public maxBoughtInBlock;
    /// @notice Set when a deposit succeeded though it exceeded the limit, or failed though it fit.
    bool public unexpected;
    /// @notice Successful deposits.
    uint256 public deposits;
    /// @notice Deposits refused with `OutOfResources`.
    uint256 public refused;
    /// @notice The highest deposit base fee seen.
    uint256 public maxBaseFee;

    constructor(Portal _portal) {
        portal = _portal;
        currentBlock = block.number;
    }

    /// @notice A deposit of `gasSeed`-derived L2 gas at an L1 base fee well above the deposit
    ///         base fee (which keeps the metering burn, real gas for forge, small).
    function deposit(uint256 gasSeed, uint256 l1FeeSeed) external {
        uint64 gasLimit = uint64(bound(gasSeed, 21_000, 16_777_216));
        vm.fee(portal.depositBaseFee() * bound(l1FeeSeed, 256, 4_096));
        if (block.number != currentBlock) {
            currentBlock = block.number;
            boughtInBlock = 0;
        }
        bool fits = boughtInBlock + gasLimit <= 20_000_000;
        try portal.depositTransaction(address(0xB0B), 0, gasLimit, false, "") {
            if (!fits) unexpected = true;
            boughtInBlock += gasLimit;
            if (boughtInBlock > maxBoughtInBlock) maxBoughtInBlock = boughtInBlock;
            ++deposits;
        } catch (bytes memory reason) {
            if (fits || bytes4(reason) != Portal.OutOfResources.selector) unexpected = true;
            ++refused;
        }
    }

    /// @notice Lets one L1 block pass (three times in four), else 2 to 40 (empty blocks).
    function roll(uint256 blocksSeed) external {
        vm.roll(block.number + (blocksSeed % 4 != 0 ? 1 : bound(blocksSeed >> 2, 2, 40)));
        uint256 fee = portal.depositBaseFee();
        if (fee > maxBaseFee) maxBaseFee = fee;
    }
}

/// @title PortalMeteringInvariantTest
/// @notice Whatever deposits and L1 blocks happen, no L1 block buys more than
///         `MAX_RESOURCE_LIMIT` and the base fee stays within `[MINIMUM_BASE_FEE, MAXIMUM_BASE_FEE]`.
contract PortalMeteringInvariantTest is TestBase {
    Portal internal portal;
    PortalMeteringHandler internal handler;

    function setUp() public {
        portal = new Portal();
        handler = new PortalMeteringHandler(portal);
    }

    /// @dev Forge's invariant fuzzer calls only the handler.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_boughtGasNeverExceedsLimit() public view {
        (, uint64 bought, uint64 blockNum) = portal.params();
        vm.assertLe(bought, portal.MAX_RESOURCE_LIMIT());
        vm.assertLe(handler.maxBoughtInBlock(), portal.MAX_RESOURCE_LIMIT());
        vm.assertFalse(handler.unexpected());
        if (blockNum == handler.currentBlock()) vm.assertEq(uint256(bought), handler.boughtInBlock());
    }

    /// @dev The handler reaches what the invariants are about (a deterministic sequence): full
    ///      blocks, refused deposits and a rising base fee. (Checked here rather than in
    ///      `afterInvariant`, which would also fail the shrunk sequences of a real failure and
    ///      report that instead.)
    function test_handler_reachesLimitAndMovesFee() public {
        for (uint256 i = 0; i < 60; i++) {
            uint256 r = uint256(keccak256(abi.encode(i)));
            if (i % 3 == 2) handler.roll(r);
            else handler.deposit(r, r >> 128);
        }
        vm.assertGt(handler.deposits(), 0);
        vm.assertGt(handler.refused(), 0);
        vm.assertGt(handler.maxBaseFee(), portal.MINIMUM_BASE_FEE());
        vm.assertFalse(handler.unexpected());
        invariant_boughtGasNeverExceedsLimit();
        invariant_baseFeeWithinBounds();
    }

    function invariant_baseFeeWithinBounds() public view {
        (uint128 fee,,) = portal.params();
        vm.assertGe(fee, portal.MINIMUM_BASE_FEE());
        vm.assertLe(fee, portal.MAXIMUM_BASE_FEE());
        uint256 next = portal.depositBaseFee();
        vm.assertGe(next, portal.MINIMUM_BASE_FEE());
        vm.assertLe(next, portal.MAXIMUM_BASE_FEE());
    }
}
