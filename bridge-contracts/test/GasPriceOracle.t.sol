// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { GasPriceOracle } from "../src/GasPriceOracle.sol";
import { L1Block } from "../src/L1Block.sol";
import { TestBase } from "./lib/Vm.sol";

contract GasPriceOracleTest is TestBase {
    address internal constant L1_BLOCK = 0x4200000000000000000000000000000000000015;
    address internal constant ORACLE = 0x420000000000000000000000000000000000000F;

    GasPriceOracle internal oracle = GasPriceOracle(ORACLE);

    function setUp() public {
        // As in the genesis: runtime code only, no constructor.
        vm.etch(L1_BLOCK, address(new L1Block()).code);
        vm.etch(ORACLE, address(new GasPriceOracle()).code);
    }

    function _setL1(uint256 baseFee, uint256 blobBaseFee, uint32 baseScalar, uint32 blobScalar) internal {
        vm.store(L1_BLOCK, bytes32(uint256(2)), bytes32(baseFee));
        vm.store(L1_BLOCK, bytes32(uint256(4)), bytes32(blobBaseFee));
        vm.store(L1_BLOCK, bytes32(uint256(5)), bytes32(uint256(baseScalar)));
        vm.store(L1_BLOCK, bytes32(uint256(6)), bytes32(uint256(blobScalar)));
    }

    /// @dev The formula written out independently of the contract.
    function _expected(uint256 len, uint256 baseFee, uint256 blobBaseFee, uint256 baseScalar, uint256 blobScalar)
        internal
        pure
        returns (uint256)
    {
        return (len + 68) * 16 * (16 * baseScalar * baseFee + blobScalar * blobBaseFee) / 16_000_000;
    }

    function test_knownValue() public {
        // 32 unsigned bytes -> 100 bytes; the Rust unit test `formula_by_hand` gets the same.
        _setL1(10 gwei, 1, 1368, 810_949);
        vm.assertEq(oracle.getL1Fee(new bytes(32)), 21_888_000_081);
        vm.assertEq(oracle.getL1GasUsed(new bytes(32)), 1600);
        vm.assertEq(oracle.getL1FeeUpperBound(32), 21_888_000_081);
    }

    function test_views() public {
        _setL1(7 gwei, 5, 1368, 810_949);
        vm.assertEq(oracle.l1BaseFee(), 7 gwei);
        vm.assertEq(oracle.blobBaseFee(), 5);
        vm.assertEq(uint256(oracle.baseFeeScalar()), 1368);
        vm.assertEq(uint256(oracle.blobBaseFeeScalar()), 810_949);
        vm.assertEq(oracle.decimals(), 6);
        vm.assertTrue(oracle.isEcotone());
        vm.assertFalse(oracle.isFjord());
    }

    function test_zeroScalars_chargeNothing() public {
        _setL1(100 gwei, 100 gwei, 0, 0);
        vm.assertEq(oracle.getL1Fee(new bytes(1000)), 0);
    }

    function test_zeroBytesCostAsMuchAsOthers() public {
        _setL1(3 gwei, 2, 1368, 810_949);
        bytes memory zeros = new bytes(200);
        bytes memory ones = new bytes(200);
        for (uint256 i = 0; i < ones.length; i++) {
            ones[i] = 0xff;
        }
        vm.assertEq(oracle.getL1Fee(zeros), oracle.getL1Fee(ones));
    }

    function test_sizeTooLarge_reverts() public {
        uint256 tooLarge = uint256(type(uint32).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(GasPriceOracle.TxSizeTooLarge.selector, tooLarge));
        oracle.getL1FeeUpperBound(tooLarge);
    }

    function testFuzz_getL1Fee_matchesFormula(
        bytes calldata data,
        uint64 baseFee,
        uint128 blobBaseFee,
        uint32 baseScalar,
        uint32 blobScalar
    ) public {
        _setL1(baseFee, blobBaseFee, baseScalar, blobScalar);
        uint256 want = _expected(data.length, baseFee, blobBaseFee, baseScalar, blobScalar);
        vm.assertEq(oracle.getL1Fee(data), want);
        vm.assertEq(oracle.getL1FeeUpperBound(data.length), want);
        vm.assertEq(oracle.getL1GasUsed(data), (data.length + 68) * 16);
    }

    function testFuzz_upperBound_isMonotone(uint256 a, uint256 b, uint64 baseFee, uint128 blobBaseFee) public {
        a = bound(a, 0, 1 << 20);
        b = bound(b, a, 1 << 20);
        _setL1(baseFee, blobBaseFee, 1368, 810_949);
        vm.assertTrue(oracle.getL1FeeUpperBound(a) <= oracle.getL1FeeUpperBound(b));
    }
}
