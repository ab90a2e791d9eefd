//! Input errors: bad usage or unreadable input, reported as one line and exit code 2.

/// An error the user can fix by changing what they passed in (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

impl InputError {
    pub fn new(msg: impl Into<String>) -> Self {
        InputError(msg.into())
    }
}

/// Shorthand for returning an input error.
pub fn input_err<T>(msg: impl Into<String>) -> anyhow::Result<T> {
    Err(InputError::new(msg).into())
}
