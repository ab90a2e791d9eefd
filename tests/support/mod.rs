//! Test support shared by the integration tests (`mod support;`): real PostgreSQL
//! servers (`pg`), certificates made per test (`certs`) and a TCP proxy that adds a
//! fixed delay each way (`delay`). Only loopback traffic.
#![allow(dead_code)]

pub mod certs;
pub mod delay;
pub mod pg;
