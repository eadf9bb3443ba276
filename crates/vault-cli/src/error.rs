//! What can go wrong, how it is told on stderr, and the exit code of each kind.

use std::fmt::Write as _;

/// A failure of one command. Its exit code tells scripts which kind of failure it was.
#[derive(Debug)]
pub enum CliError {
    /// The command line asks for something that cannot be done (exit code 2, as clap's
    /// own usage errors).
    Usage(String),
    /// Something on this machine failed: the config file, reading a secret (exit code 1).
    Local(String),
    /// The server answered with an error (exit code 3).
    Refused(Box<Problem>),
    /// The server could not be reached (exit code 4).
    Unreachable {
        /// The server's URL (never with a key: keys only travel in a header).
        server: String,
        /// Why, as the HTTP client tells it.
        cause: String,
    },
}

/// An error answer of the server: its RFC 9457 problem document when it sent one.
#[derive(Debug, Default)]
pub struct Problem {
    /// HTTP status.
    pub status: u16,
    /// `title`, or the status's reason phrase.
    pub title: String,
    /// `detail`.
    pub detail: Option<String>,
    /// The stable machine `code`.
    pub code: Option<String>,
    /// `requestId`, to quote to the operators.
    pub request_id: Option<String>,
    /// `errors[]`: (field, message).
    pub errors: Vec<(String, String)>,
    /// What the user can do about it, from the client's side.
    pub hint: Option<String>,
}

/// Exit codes, documented in the README.
pub mod exit {
    /// A local failure: config file, reading a secret, writing output.
    pub const LOCAL: u8 = 1;
    /// A usage error (the same code clap uses).
    pub const USAGE: u8 = 2;
    /// The server refused the request, or answered something unexpected.
    pub const REFUSED: u8 = 3;
    /// The server could not be reached.
    pub const UNREACHABLE: u8 = 4;
}

impl CliError {
    /// The process exit code for this failure.
    #[must_use]
    pub const fn exit_code(&self) -> u8 {
        match self {
            Self::Local(_) => exit::LOCAL,
            Self::Usage(_) => exit::USAGE,
            Self::Refused(_) => exit::REFUSED,
            Self::Unreachable { .. } => exit::UNREACHABLE,
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    pub(crate) fn local(message: impl Into<String>) -> Self {
        Self::Local(message.into())
    }

    /// A server answer the client cannot use (not the JSON the contract promises).
    pub(crate) fn unexpected(status: u16, what: &str) -> Self {
        Self::Refused(Box::new(Problem {
            status,
            title: format!("unexpected answer from the server: {what}"),
            ..Problem::default()
        }))
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Usage(message) | Self::Local(message) => write!(f, "error: {message}"),
            Self::Unreachable { server, cause } => {
                write!(f, "error: could not reach the server at {server}: {cause}")
            }
            Self::Refused(problem) => f.write_str(&problem.render()),
        }
    }
}

impl std::error::Error for CliError {}

impl Problem {
    /// The lines told on stderr: title, code and status, detail, each invalid field, the
    /// request id, and a hint.
    fn render(&self) -> String {
        let mut out = format!("error: {}", self.title);
        match &self.code {
            Some(code) => {
                let _ = write!(out, " ({code}, HTTP {})", self.status);
            }
            None => {
                let _ = write!(out, " (HTTP {})", self.status);
            }
        }
        // With field errors, the detail only repeats them in one line.
        let detail = self
            .detail
            .as_deref()
            .filter(|d| *d != self.title && self.errors.is_empty());
        if let Some(detail) = detail {
            let _ = write!(out, "\n  {detail}");
        }
        for (field, message) in &self.errors {
            let _ = write!(out, "\n  - {field}: {message}");
        }
        if let Some(id) = &self.request_id {
            let _ = write!(out, "\n  request id: {id}");
        }
        if let Some(hint) = &self.hint {
            let _ = write!(out, "\n  {hint}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_shows_its_title_code_status_fields_and_request_id() {
        let error = CliError::Refused(Box::new(Problem {
            status: 422,
            title: "Invalid fields".to_owned(),
            detail: Some("Some fields are missing or invalid".to_owned()),
            code: Some("invalid-field".to_owned()),
            request_id: Some("req-1".to_owned()),
            errors: vec![("name".to_owned(), "is required".to_owned())],
            hint: None,
        }));
        let shown = error.to_string();
        for part in [
            "Invalid fields",
            "invalid-field",
            "HTTP 422",
            "name: is required",
            "request id: req-1",
        ] {
            assert!(shown.contains(part), "{part} missing in {shown}");
        }
        assert_eq!(error.exit_code(), exit::REFUSED);
    }
}
