// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Clock, Duration, Timestamp } from "./Types.sol";

/// @title LibClock
/// @notice Packs and unpacks `Clock` (`duration ‖ timestamp`, 64 bits each).
library LibClock {
    /// @notice A clock that has used `_duration` and was started at `_timestamp`.
    function wrap(Duration _duration, Timestamp _timestamp) internal pure returns (Clock) {
        return Clock.wrap((uint128(Duration.unwrap(_duration)) << 64) | Timestamp.unwrap(_timestamp));
    }

    /// @notice The time the clock's side has used.
    function duration(Clock _clock) internal pure returns (Duration) {
        return Duration.wrap(uint64(Clock.unwrap(_clock) >> 64));
    }

    /// @notice When the clock was started.
    function timestamp(Clock _clock) internal pure returns (Timestamp) {
        // casting to 'uint64' keeps the low half on purpose
        // forge-lint: disable-next-line(unsafe-typecast)
        return Timestamp.wrap(uint64(Clock.unwrap(_clock)));
    }
}
