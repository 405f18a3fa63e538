//! `blink-challenger` as a library: the parts of a challenger that decide, pure and
//! shared by the challenger binary and the sequencer operator's defender.
//!
//! * [`position`]: positions in the game tree (`LibPosition.sol`);
//! * [`solver`]: the honest actor's moves, steps and resolution order for a game as read
//!   from L1, given the honest trace;
//! * [`game`]: one game on L1, read into the solver's view, and the actions sent;
//! * [`chain`]: the honest chain, re-derived from L1 by the machine, judging each output;
//! * [`outputs`]: `OutputOracle`'s proposals and the rule for which one to dispute;
//! * [`trace`]: `protocol`'s game trace as the solver's [`solver::Trace`] and the sender's
//!   [`game::StepSource`].
//! * [`list`]: every game of the factory as a table (`blink-challenger list-games`);
//! * [`metrics`]: the Prometheus metrics and their `/metrics` server;
//! * [`status`]: what the challenger is doing after each round (sync, outputs, games in
//!   flight with their clocks and bonds), written to the metrics and the log;
//! * [`run`]: the loop the `blink-challenger` binary runs: follow L1, judge outputs, open
//!   and play games, resolve, claim.
//!
//! What it is not (yet): a defender for the sequencer's operator beyond what the same
//! loop does for any game it can judge; state on disk.

pub mod chain;
pub mod game;
pub mod list;
pub mod metrics;
pub mod outputs;
pub mod position;
pub mod run;
pub mod solver;
pub mod status;
pub mod trace;
