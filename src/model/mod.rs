//! The data every layer shares: what was read ([`evidence`]), what was concluded
//! ([`findings`]) and the error a user can fix ([`error`]).

pub mod duration;
pub mod error;
pub mod evidence;
pub mod findings;
pub mod pem;
pub mod tls;

/// Removes repeated items, keeping the first of each where it stands (`Vec::dedup`
/// only removes *consecutive* repeats, and sorting would lose the order).
pub fn unique_in_order<T: PartialEq>(v: &mut Vec<T>) {
    let mut seen: Vec<T> = Vec::with_capacity(v.len());
    for x in v.drain(..) {
        if !seen.contains(&x) {
            seen.push(x);
        }
    }
    *v = seen;
}
