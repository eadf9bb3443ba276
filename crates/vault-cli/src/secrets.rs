//! Reading secret values: from a no-echo prompt, a file or stdin, never from the command
//! line (argv is visible to every user of the machine in `ps` and lands in shell history).

use std::io::{IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value};
use zeroize::{Zeroize as _, Zeroizing};

use crate::error::CliError;

/// Largest secret input read (the server takes bodies of 64 KiB by default).
const MAX_SECRET_INPUT: u64 = 1024 * 1024;

/// Where secret values come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// A no-echo prompt on the terminal.
    Prompt,
    /// The whole content of a file.
    File(PathBuf),
    /// The whole of stdin.
    Stdin,
}

impl Source {
    pub(crate) fn from_flags(file: Option<PathBuf>, stdin: bool) -> Self {
        match (file, stdin) {
            (Some(path), _) => Self::File(path),
            (None, true) => Self::Stdin,
            (None, false) => Self::Prompt,
        }
    }
}

/// How a secret value is shaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// One line; trailing line breaks of a file or stdin are dropped.
    Line,
    /// Several lines (a PEM private key): kept whole, which a prompt cannot take.
    Lines,
}

/// True when stdin is a terminal someone can answer a prompt on.
pub(crate) fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// A no-echo prompt, on the terminal only.
pub(crate) fn prompt(label: &str, how_else: &str) -> Result<SecretString, CliError> {
    if !interactive() {
        return Err(CliError::usage(format!(
            "stdin is not a terminal, so there is no one to ask for the {label}: {how_else}"
        )));
    }
    let answer = rpassword::prompt_password(format!("{label}: "))
        .map(SecretString::from)
        .map_err(|error| CliError::local(format!("cannot read the {label}: {error}")))?;
    if answer.expose_secret().is_empty() {
        return Err(CliError::usage(format!("no {label} given")));
    }
    Ok(answer)
}

fn read_limited(reader: impl std::io::Read, what: &str) -> Result<Zeroizing<String>, CliError> {
    let mut text = Zeroizing::new(String::new());
    reader
        .take(MAX_SECRET_INPUT + 1)
        .read_to_string(&mut text)
        .map_err(|error| CliError::local(format!("cannot read {what}: {error}")))?;
    if text.len() as u64 > MAX_SECRET_INPUT {
        return Err(CliError::local(format!(
            "{what} is larger than {MAX_SECRET_INPUT} bytes"
        )));
    }
    Ok(text)
}

/// The whole of a file or stdin.
fn read_all(source: &Source) -> Result<Zeroizing<String>, CliError> {
    match source {
        Source::Stdin => read_limited(std::io::stdin().lock(), "stdin"),
        Source::File(path) => {
            let what = format!("the secret file {}", path.display());
            let file = std::fs::File::open(path)
                .map_err(|error| CliError::local(format!("cannot read {what}: {error}")))?;
            read_limited(file, &what)
        }
        Source::Prompt => Err(CliError::usage("internal: no input to read")),
    }
}

fn source_name(source: &Source) -> String {
    match source {
        Source::Stdin => "stdin".to_owned(),
        Source::File(path) => path.display().to_string(),
        Source::Prompt => "the prompt".to_owned(),
    }
}

/// One secret value, e.g. an API key or a password.
pub(crate) fn read_one(
    source: &Source,
    label: &str,
    shape: Shape,
) -> Result<SecretString, CliError> {
    if *source == Source::Prompt {
        if shape == Shape::Lines {
            return Err(CliError::usage(format!(
                "the {label} spans several lines, which a prompt cannot take: give it with \
                 --secret-file PATH or --secret-stdin"
            )));
        }
        return prompt(label, "give it with --secret-file PATH or --secret-stdin");
    }
    read_given(source, label, shape)
}

/// One secret value from a file or stdin, read once.
fn read_given(source: &Source, label: &str, shape: Shape) -> Result<SecretString, CliError> {
    let text = read_all(source)?;
    let value = match shape {
        Shape::Line => text.trim_end_matches(['\n', '\r']),
        Shape::Lines => text.as_str(),
    };
    if value.trim().is_empty() {
        return Err(CliError::usage(format!(
            "no {label} in {}: it is empty",
            source_name(source)
        )));
    }
    Ok(SecretString::from(value.to_owned()))
}

/// Whether a prompted passphrase is asked for twice: a new one (an export sealed to it)
/// must not carry a typo no one can undo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Confirm {
    /// Ask twice; the answers must match.
    Twice,
    /// Ask once.
    Once,
}

/// A bundle's passphrase: from a no-echo prompt, or the whole of a file or stdin (its
/// trailing line breaks dropped).
pub(crate) fn read_passphrase(source: &Source, confirm: Confirm) -> Result<SecretString, CliError> {
    const HOW_ELSE: &str = "give it with --passphrase-file PATH or --passphrase-stdin";
    if *source != Source::Prompt {
        return read_given(source, "passphrase", Shape::Line);
    }
    let passphrase = prompt("passphrase", HOW_ELSE)?;
    if confirm == Confirm::Twice {
        let again = prompt("passphrase (again)", HOW_ELSE)?;
        if again.expose_secret() != passphrase.expose_secret() {
            return Err(CliError::usage(
                "the two passphrases differ: nothing was done",
            ));
        }
    }
    Ok(passphrase)
}

/// The secret key of an age identity file (as `age-keygen` writes it): its first line
/// that is an X25519 secret key, `#` comments and blank lines passed over. Messages never
/// quote the file.
pub(crate) fn read_age_identity(path: &Path) -> Result<SecretString, CliError> {
    let text = read_all(&Source::File(path.to_path_buf()))?;
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .find(|line| line.starts_with("AGE-SECRET-KEY-1"))
        .map(|key| SecretString::from(key.to_owned()))
        .ok_or_else(|| {
            CliError::usage(format!(
                "no age secret key in {}: an identity file holds a line \
                 AGE-SECRET-KEY-1... (age-keygen writes one)",
                path.display()
            ))
        })
}

/// The headers of a custom credential: from a prompt per name, or a JSON object
/// `{"Header-Name": "value", ...}` in a file or on stdin.
pub(crate) fn read_headers(
    source: &Source,
    names: &[String],
) -> Result<Vec<(String, SecretString)>, CliError> {
    if *source == Source::Prompt {
        if names.is_empty() {
            return Err(CliError::usage(
                "name the headers to prompt for with --header NAME (repeat it), or give them \
                 as a JSON object {\"Header-Name\": \"value\"} with --secret-file PATH or \
                 --secret-stdin",
            ));
        }
        return names
            .iter()
            .map(|name| {
                let value = prompt(
                    &format!("value of header {name}"),
                    "give the headers as a JSON object with --secret-file PATH or --secret-stdin",
                )?;
                Ok((name.clone(), value))
            })
            .collect();
    }
    if !names.is_empty() {
        return Err(CliError::usage(
            "--header names the headers to prompt for; with --secret-file or --secret-stdin \
             the JSON object names them",
        ));
    }
    let text = read_all(source)?;
    // serde_json's messages may quote a value: only say where it went wrong.
    let mut parsed: Map<String, Value> = serde_json::from_str(&text).map_err(|error| {
        CliError::usage(format!(
            "{} must hold a JSON object of header names to string values, e.g. \
             {{\"X-Api-Key\": \"...\"}} (invalid at line {}, column {})",
            source_name(source),
            error.line(),
            error.column()
        ))
    })?;
    let mut headers = Vec::with_capacity(parsed.len());
    let mut bad = None;
    for (name, value) in &mut parsed {
        match value {
            Value::String(text) => {
                headers.push((name.clone(), SecretString::from(std::mem::take(text))));
            }
            _ => bad = Some(name.clone()),
        }
    }
    wipe_map(&mut parsed);
    if let Some(name) = bad {
        return Err(CliError::usage(format!(
            "the value of header {name} in {} must be a string",
            source_name(source)
        )));
    }
    if headers.is_empty() {
        return Err(CliError::usage(format!(
            "no header in {}: the JSON object is empty",
            source_name(source)
        )));
    }
    Ok(headers)
}

/// Overwrites every string in a JSON value that held secrets, before it is freed.
pub(crate) fn wipe(value: &mut Value) {
    match value {
        Value::String(text) => text.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(map) => wipe_map(map),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn wipe_map(map: &mut Map<String, Value>) {
    map.values_mut().for_each(wipe);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_gives_one_value_without_its_trailing_newline() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cr3t-value\r\n").expect("written");
        let value = read_one(&Source::File(path), "value", Shape::Line).expect("read");
        assert_eq!(value.expose_secret(), "s3cr3t-value");
    }

    #[test]
    fn a_passphrase_file_is_read_once_without_its_trailing_newline() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("passphrase");
        std::fs::write(&path, "correct horse battery\n").expect("written");
        let passphrase = read_passphrase(&Source::File(path), Confirm::Twice).expect("read");
        assert_eq!(passphrase.expose_secret(), "correct horse battery");
    }

    #[test]
    fn an_identity_file_gives_its_first_secret_key_and_errors_never_quote_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("key.txt");
        std::fs::write(
            &path,
            "# created: 2026-01-01T00:00:00Z\n# public key: age1abc\n\n\
             AGE-SECRET-KEY-1FIRST\nAGE-SECRET-KEY-1SECOND\n",
        )
        .expect("written");
        let key = read_age_identity(&path).expect("read");
        assert_eq!(key.expose_secret(), "AGE-SECRET-KEY-1FIRST");

        std::fs::write(&path, "# only a comment\nnot-a-key-hidden-4\n").expect("written");
        let error = read_age_identity(&path).expect_err("refused").to_string();
        assert!(
            error.contains("AGE-SECRET-KEY-1") && !error.contains("hidden-4"),
            "{error}"
        );
    }

    #[test]
    fn a_pem_keeps_its_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("key.pem");
        let pem = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n";
        std::fs::write(&path, pem).expect("written");
        let value = read_one(&Source::File(path), "private key", Shape::Lines).expect("read");
        assert_eq!(value.expose_secret(), pem);
    }

    #[test]
    fn an_empty_file_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("secret");
        std::fs::write(&path, "\n").expect("written");
        assert!(matches!(
            read_one(&Source::File(path), "value", Shape::Line),
            Err(CliError::Usage(_))
        ));
    }

    #[test]
    fn headers_come_from_a_json_object_and_errors_never_quote_values() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("headers.json");
        std::fs::write(&path, r#"{"X-Key": "hidden-1", "X-Id": "42"}"#).expect("written");
        let headers = read_headers(&Source::File(path.clone()), &[]).expect("read");
        let shown: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.expose_secret()))
            .collect();
        assert_eq!(shown, [("X-Id", "42"), ("X-Key", "hidden-1")]);

        std::fs::write(&path, r#"{"X-Key": "hidden-2", "X-Id": 42}"#).expect("written");
        let error = read_headers(&Source::File(path.clone()), &[])
            .expect_err("refused")
            .to_string();
        assert!(
            error.contains("X-Id") && !error.contains("hidden-2"),
            "{error}"
        );

        std::fs::write(&path, r#"{"X-Key": hidden-3}"#).expect("written");
        let error = read_headers(&Source::File(path), &[])
            .expect_err("refused")
            .to_string();
        assert!(
            error.contains("line 1") && !error.contains("hidden-3"),
            "{error}"
        );
    }
}
