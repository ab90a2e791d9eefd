//! Test support shared by the integration tests: real PostgreSQL servers (`pg`),
//! certificates made per test (`certs`), a TCP proxy that adds a fixed delay each way
//! (`delay`), the binary and the bundle server as the cluster (`cli`), reading reports
//! (`report`), and the real
//! parts a test needs, which under `CI=true` must be present (`ci`). Only loopback
//! traffic.
#![allow(dead_code)]

pub mod certs;
pub mod ci;
pub mod cli;
pub mod delay;
pub mod pg;
pub mod prom;
pub mod report;
