//! The guard: the one opt-in exception to "read-only towards the agent". An
//! agent hooked to skilltrace asks before a tool runs, and gets allow, ask or
//! deny from the same redaction and detection engine that reads its traces.
//!
//! Events per agent (`agents/`) become one [`event::GuardEvent`], then a span
//! the [`judge::Judge`] scans inside the session's run (chains count) and
//! the [`policy::Policy`] turns into a verdict; the answer goes back in the
//! agent's own format. Every guarded event is recorded (`record`) as spans and
//! findings with the decision. Front ends: the command hook (`hook`, a process
//! per event, session state in `session` files, answered by a background
//! `warm_judge` when one runs, see `warm`) and `guard serve` (`server`,
//! one process, sessions in memory). `install` edits the agents' hook
//! settings, keeping the user's own hooks byte for byte.

pub mod agents;
pub mod budget;
pub mod client;
pub mod defer;
pub mod event;
pub mod hook;
pub mod install;
pub mod judge;
pub mod policy;
pub mod record;
pub mod server;
pub mod session;
pub mod warm;
pub mod warm_judge;

pub use agents::{Agent, Answer, Verdict};
pub use policy::{Action, Policy};
