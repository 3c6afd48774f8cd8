//! The `clientele` binary's parts: configuration, telemetry, the demo data
//! set and administrative commands. `main.rs` only parses the command line.

pub mod admin;
pub mod backups;
pub mod config;
pub mod demo;
pub mod telemetry;
