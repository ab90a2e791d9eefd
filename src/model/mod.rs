//! The data every layer shares: what was read ([`evidence`]), what was concluded
//! ([`findings`]) and the error a user can fix ([`error`]).

pub mod duration;
pub mod error;
pub mod evidence;
pub mod findings;
