//! dssc-doctor: diagnoses failed Deep Security Smart Check installations.
//!
//! Layers point one way: `main` → [`cli`] (every clap type) → [`commands`] (one module
//! per subcommand, the one async runtime, output) → the engine ([`preflight`],
//! [`serve`], [`sources`], [`analysis`], [`probe`], [`netpol`], [`settings`],
//! [`report`], [`export`]) → the model ([`model`], [`catalogue`], [`redact`]). Nothing below
//! `commands` knows the command line: engine entry points take plain option structs.

pub mod analysis;
pub mod catalogue;
pub mod cli;
pub mod commands;
pub mod export;
pub mod model;
pub mod netpol;
pub mod preflight;
pub mod probe;
pub mod redact;
pub mod report;
pub mod serve;
pub mod settings;
pub mod sources;
