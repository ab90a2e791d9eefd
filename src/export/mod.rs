//! Sending the report's metrics to the systems that watch a fleet: a Prometheus
//! Pushgateway (`pushgateway`) and the HTTP endpoint a Prometheus scrapes (`server`).

pub mod pushgateway;
pub mod server;
