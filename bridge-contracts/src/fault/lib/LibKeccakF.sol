// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title LibKeccakF
/// @notice keccak-f[1600] on 25 lanes in memory, for the `KECCAK256` sponge micro-steps
///         of the one-step prover (`docs/fault-proofs.md` 2.2): the same 24 rounds as
///         `protocol::fault::sponge::keccak_f`, lane `x + 5y` at word `x + 5y`, each lane a
///         64-bit value in the low bits of its word.
/// @dev    Generated (round body unrolled: theta in place, then rho, pi and chi row by row
///         into a second buffer; the two buffers swap every round, so after 24 rounds the
///         result is back in the caller's). Scratch memory past the free pointer holds the
///         second buffer and the round constants; nothing is allocated. Not the padding or
///         the byte order of the sponge: the prover does those.
library LibKeccakF {
    /// @notice Permutes the 25 lanes at `state` (words `state .. state + 800`) in place.
    function permute(uint256 state) internal pure {
        assembly ("memory-safe") {
            let b := mload(0x40)
            let rc := add(b, 800)
            mstore(rc, 0x1)
            mstore(add(rc, 32), 0x8082)
            mstore(add(rc, 64), 0x800000000000808a)
            mstore(add(rc, 96), 0x8000000080008000)
            mstore(add(rc, 128), 0x808b)
            mstore(add(rc, 160), 0x80000001)
            mstore(add(rc, 192), 0x8000000080008081)
            mstore(add(rc, 224), 0x8000000000008009)
            mstore(add(rc, 256), 0x8a)
            mstore(add(rc, 288), 0x88)
            mstore(add(rc, 320), 0x80008009)
            mstore(add(rc, 352), 0x8000000a)
            mstore(add(rc, 384), 0x8000808b)
            mstore(add(rc, 416), 0x800000000000008b)
            mstore(add(rc, 448), 0x8000000000008089)
            mstore(add(rc, 480), 0x8000000000008003)
            mstore(add(rc, 512), 0x8000000000008002)
            mstore(add(rc, 544), 0x8000000000000080)
            mstore(add(rc, 576), 0x800a)
            mstore(add(rc, 608), 0x800000008000000a)
            mstore(add(rc, 640), 0x8000000080008081)
            mstore(add(rc, 672), 0x8000000000008080)
            mstore(add(rc, 704), 0x80000001)
            mstore(add(rc, 736), 0x8000000080008008)
            let a := state
            for { let round := 0 } lt(round, 24) { round := add(round, 1) } {
                // theta: C[x] = xor of column x; lane (x, y) ^= C[x-1] ^ rotl(C[x+1], 1)
                {
                    let c0 :=
                        xor(
                            xor(xor(xor(mload(a), mload(add(a, 160))), mload(add(a, 320))), mload(add(a, 480))),
                            mload(add(a, 640))
                        )
                    let c1 :=
                        xor(
                            xor(
                                xor(xor(mload(add(a, 32)), mload(add(a, 192))), mload(add(a, 352))),
                                mload(add(a, 512))
                            ),
                            mload(add(a, 672))
                        )
                    let c2 :=
                        xor(
                            xor(
                                xor(xor(mload(add(a, 64)), mload(add(a, 224))), mload(add(a, 384))),
                                mload(add(a, 544))
                            ),
                            mload(add(a, 704))
                        )
                    let c3 :=
                        xor(
                            xor(
                                xor(xor(mload(add(a, 96)), mload(add(a, 256))), mload(add(a, 416))),
                                mload(add(a, 576))
                            ),
                            mload(add(a, 736))
                        )
                    let c4 :=
                        xor(
                            xor(
                                xor(xor(mload(add(a, 128)), mload(add(a, 288))), mload(add(a, 448))),
                                mload(add(a, 608))
                            ),
                            mload(add(a, 768))
                        )
                    {
                        let d := xor(c4, and(or(shl(1, c1), shr(63, c1)), 0xffffffffffffffff))
                        mstore(a, xor(mload(a), d))
                        mstore(add(a, 160), xor(mload(add(a, 160)), d))
                        mstore(add(a, 320), xor(mload(add(a, 320)), d))
                        mstore(add(a, 480), xor(mload(add(a, 480)), d))
                        mstore(add(a, 640), xor(mload(add(a, 640)), d))
                    }
                    {
                        let d := xor(c0, and(or(shl(1, c2), shr(63, c2)), 0xffffffffffffffff))
                        mstore(add(a, 32), xor(mload(add(a, 32)), d))
                        mstore(add(a, 192), xor(mload(add(a, 192)), d))
                        mstore(add(a, 352), xor(mload(add(a, 352)), d))
                        mstore(add(a, 512), xor(mload(add(a, 512)), d))
                        mstore(add(a, 672), xor(mload(add(a, 672)), d))
                    }
                    {
                        let d := xor(c1, and(or(shl(1, c3), shr(63, c3)), 0xffffffffffffffff))
                        mstore(add(a, 64), xor(mload(add(a, 64)), d))
                        mstore(add(a, 224), xor(mload(add(a, 224)), d))
                        mstore(add(a, 384), xor(mload(add(a, 384)), d))
                        mstore(add(a, 544), xor(mload(add(a, 544)), d))
                        mstore(add(a, 704), xor(mload(add(a, 704)), d))
                    }
                    {
                        let d := xor(c2, and(or(shl(1, c4), shr(63, c4)), 0xffffffffffffffff))
                        mstore(add(a, 96), xor(mload(add(a, 96)), d))
                        mstore(add(a, 256), xor(mload(add(a, 256)), d))
                        mstore(add(a, 416), xor(mload(add(a, 416)), d))
                        mstore(add(a, 576), xor(mload(add(a, 576)), d))
                        mstore(add(a, 736), xor(mload(add(a, 736)), d))
                    }
                    {
                        let d := xor(c3, and(or(shl(1, c0), shr(63, c0)), 0xffffffffffffffff))
                        mstore(add(a, 128), xor(mload(add(a, 128)), d))
                        mstore(add(a, 288), xor(mload(add(a, 288)), d))
                        mstore(add(a, 448), xor(mload(add(a, 448)), d))
                        mstore(add(a, 608), xor(mload(add(a, 608)), d))
                        mstore(add(a, 768), xor(mload(add(a, 768)), d))
                    }
                }
                // rho and pi into b (B[y, 2x + 3y] = rotl(A[x, y], r[x][y])), chi row by row
                {
                    let b0 := mload(a)
                    let b1 := mload(add(a, 192))
                    b1 := and(or(shl(44, b1), shr(20, b1)), 0xffffffffffffffff)
                    let b2 := mload(add(a, 384))
                    b2 := and(or(shl(43, b2), shr(21, b2)), 0xffffffffffffffff)
                    let b3 := mload(add(a, 576))
                    b3 := and(or(shl(21, b3), shr(43, b3)), 0xffffffffffffffff)
                    let b4 := mload(add(a, 768))
                    b4 := and(or(shl(14, b4), shr(50, b4)), 0xffffffffffffffff)
                    mstore(b, xor(b0, and(not(b1), b2)))
                    mstore(add(b, 32), xor(b1, and(not(b2), b3)))
                    mstore(add(b, 64), xor(b2, and(not(b3), b4)))
                    mstore(add(b, 96), xor(b3, and(not(b4), b0)))
                    mstore(add(b, 128), xor(b4, and(not(b0), b1)))
                }
                {
                    let b0 := mload(add(a, 96))
                    b0 := and(or(shl(28, b0), shr(36, b0)), 0xffffffffffffffff)
                    let b1 := mload(add(a, 288))
                    b1 := and(or(shl(20, b1), shr(44, b1)), 0xffffffffffffffff)
                    let b2 := mload(add(a, 320))
                    b2 := and(or(shl(3, b2), shr(61, b2)), 0xffffffffffffffff)
                    let b3 := mload(add(a, 512))
                    b3 := and(or(shl(45, b3), shr(19, b3)), 0xffffffffffffffff)
                    let b4 := mload(add(a, 704))
                    b4 := and(or(shl(61, b4), shr(3, b4)), 0xffffffffffffffff)
                    mstore(add(b, 160), xor(b0, and(not(b1), b2)))
                    mstore(add(b, 192), xor(b1, and(not(b2), b3)))
                    mstore(add(b, 224), xor(b2, and(not(b3), b4)))
                    mstore(add(b, 256), xor(b3, and(not(b4), b0)))
                    mstore(add(b, 288), xor(b4, and(not(b0), b1)))
                }
                {
                    let b0 := mload(add(a, 32))
                    b0 := and(or(shl(1, b0), shr(63, b0)), 0xffffffffffffffff)
                    let b1 := mload(add(a, 224))
                    b1 := and(or(shl(6, b1), shr(58, b1)), 0xffffffffffffffff)
                    let b2 := mload(add(a, 416))
                    b2 := and(or(shl(25, b2), shr(39, b2)), 0xffffffffffffffff)
                    let b3 := mload(add(a, 608))
                    b3 := and(or(shl(8, b3), shr(56, b3)), 0xffffffffffffffff)
                    let b4 := mload(add(a, 640))
                    b4 := and(or(shl(18, b4), shr(46, b4)), 0xffffffffffffffff)
                    mstore(add(b, 320), xor(b0, and(not(b1), b2)))
                    mstore(add(b, 352), xor(b1, and(not(b2), b3)))
                    mstore(add(b, 384), xor(b2, and(not(b3), b4)))
                    mstore(add(b, 416), xor(b3, and(not(b4), b0)))
                    mstore(add(b, 448), xor(b4, and(not(b0), b1)))
                }
                {
                    let b0 := mload(add(a, 128))
                    b0 := and(or(shl(27, b0), shr(37, b0)), 0xffffffffffffffff)
                    let b1 := mload(add(a, 160))
                    b1 := and(or(shl(36, b1), shr(28, b1)), 0xffffffffffffffff)
                    let b2 := mload(add(a, 352))
                    b2 := and(or(shl(10, b2), shr(54, b2)), 0xffffffffffffffff)
                    let b3 := mload(add(a, 544))
                    b3 := and(or(shl(15, b3), shr(49, b3)), 0xffffffffffffffff)
                    let b4 := mload(add(a, 736))
                    b4 := and(or(shl(56, b4), shr(8, b4)), 0xffffffffffffffff)
                    mstore(add(b, 480), xor(b0, and(not(b1), b2)))
                    mstore(add(b, 512), xor(b1, and(not(b2), b3)))
                    mstore(add(b, 544), xor(b2, and(not(b3), b4)))
                    mstore(add(b, 576), xor(b3, and(not(b4), b0)))
                    mstore(add(b, 608), xor(b4, and(not(b0), b1)))
                }
                {
                    let b0 := mload(add(a, 64))
                    b0 := and(or(shl(62, b0), shr(2, b0)), 0xffffffffffffffff)
                    let b1 := mload(add(a, 256))
                    b1 := and(or(shl(55, b1), shr(9, b1)), 0xffffffffffffffff)
                    let b2 := mload(add(a, 448))
                    b2 := and(or(shl(39, b2), shr(25, b2)), 0xffffffffffffffff)
                    let b3 := mload(add(a, 480))
                    b3 := and(or(shl(41, b3), shr(23, b3)), 0xffffffffffffffff)
                    let b4 := mload(add(a, 672))
                    b4 := and(or(shl(2, b4), shr(62, b4)), 0xffffffffffffffff)
                    mstore(add(b, 640), xor(b0, and(not(b1), b2)))
                    mstore(add(b, 672), xor(b1, and(not(b2), b3)))
                    mstore(add(b, 704), xor(b2, and(not(b3), b4)))
                    mstore(add(b, 736), xor(b3, and(not(b4), b0)))
                    mstore(add(b, 768), xor(b4, and(not(b0), b1)))
                }
                // iota
                mstore(b, xor(mload(b), mload(add(rc, mul(32, round)))))
                let t := a
                a := b
                b := t
            }
        }
    }
}
