//! `vault export` and `vault import`: an organization's credentials, secret values
//! included, as an age file the vault seals (`POST /credentials/export`), and back
//! (`POST /credentials/import`).
//!
//! The client never holds a secret value in the clear: it carries the sealed file, and the
//! passphrase or age identity that opens it, which it reads as it reads every secret (a
//! no-echo prompt, a file or stdin; never argv) and wipes once sent.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, IsTerminal as _, Read as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use reqwest::Method;
use secrecy::ExposeSecret as _;
use serde_json::{Map, Value, json};
use vault_core::bundle::MAX_BUNDLE_BYTES;

use crate::api::{Api, JsonBody};
use crate::cli::{ExportArgs, ImportArgs, PassphraseArgs};
use crate::error::CliError;
use crate::output::{self, cell, items, table};
use crate::secrets::{self, Confirm, Source};

/// The first line of an age file, in the binary form the vault writes and reads.
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1";

/// The first line of an ASCII-armored age file, which the vault does not take.
const AGE_ARMOR: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// How many credentials an export holds, as its answer counts them.
const EXPORTED: &str = "Vault-Exported-Credentials";

/// `vault export`: asks the vault for the sealed bundle and writes it whole, or not at all.
pub(crate) async fn export(api: &Api, args: ExportArgs, json: bool) -> Result<(), CliError> {
    let to_stdout = args.out.as_os_str() == "-";
    // What can be refused here is refused before the vault makes (and audits) an export.
    if to_stdout {
        if std::io::stdout().is_terminal() {
            return Err(CliError::usage(
                "the bundle is a binary file, not for a terminal: redirect stdout, or give \
                 --out FILE",
            ));
        }
    } else {
        if !args.force && fs::symlink_metadata(&args.out).is_ok() {
            return Err(exists(&args.out));
        }
        let dir = directory(&args.out);
        if !dir.is_dir() {
            return Err(CliError::usage(format!(
                "--out {}: there is no directory {}",
                args.out.display(),
                dir.display()
            )));
        }
    }
    let mut body = Map::new();
    if args.recipients.is_empty() {
        let passphrase = secrets::read_passphrase(&source(&args.passphrase), Confirm::Twice)?;
        body.insert("passphrase".to_owned(), json!(passphrase.expose_secret()));
    } else {
        body.insert("recipients".to_owned(), json!(args.recipients));
    }
    body.insert("versions".to_owned(), json!(args.versions));
    if let Some(org) = args.org {
        body.insert("organization".to_owned(), json!(org));
    }
    let reply = api
        .call_raw(
            Method::POST,
            &["credentials", "export"],
            &[],
            Some(JsonBody::from_value(Value::Object(body))?),
            None,
        )
        .await?;
    let count: u64 = reply
        .header(EXPORTED)
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| CliError::unexpected(reply.status, "no count of credentials exported"))?;
    if !reply.bytes.starts_with(AGE_MAGIC) {
        return Err(CliError::unexpected(reply.status, "not an age file"));
    }
    let exported = plural(count, "credential");
    if to_stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(&reply.bytes)
            .and_then(|()| out.flush())
            .map_err(|error| {
                CliError::local(format!("cannot write the bundle to stdout: {error}"))
            })?;
        eprintln!("Exported {exported} to stdout.");
        return Ok(());
    }
    write_whole(&args.out, &reply.bytes, args.force)?;
    if json {
        return output::json(&json!({
            "credentials": count,
            "path": args.out.display().to_string(),
        }));
    }
    eprintln!("Exported {exported} to {}.", args.out.display());
    Ok(())
}

/// `vault import`: reads the bundle, asks for what opens it (as its header says), and
/// shows what became of each credential.
pub(crate) async fn import(api: &Api, args: ImportArgs, json: bool) -> Result<(), CliError> {
    let bundle = read_bundle(&args.file)?;
    let file = args.file.display();
    let source = source(&args.passphrase);
    let mut body = Map::new();
    match sealing(&bundle) {
        Err(why) => {
            return Err(CliError::usage(format!(
                "{file} is not a bundle: {why}; give a file made by `vault export`"
            )));
        }
        Ok(Sealing::Passphrase) => {
            if args.identity.is_some() {
                return Err(CliError::usage(format!(
                    "{file} is sealed to a passphrase, not to public keys: drop --identity \
                     (the passphrase is read from a prompt, --passphrase-file or \
                     --passphrase-stdin)"
                )));
            }
            let passphrase = secrets::read_passphrase(&source, Confirm::Once)?;
            body.insert("passphrase".to_owned(), json!(passphrase.expose_secret()));
        }
        Ok(Sealing::PublicKeys) => {
            if source != Source::Prompt {
                return Err(CliError::usage(format!(
                    "{file} is sealed to public keys, not to a passphrase: give --identity \
                     PATH instead of --passphrase-file or --passphrase-stdin"
                )));
            }
            let Some(path) = &args.identity else {
                return Err(CliError::usage(format!(
                    "{file} is sealed to public keys: give --identity PATH, an age identity \
                     file holding one of their secret keys"
                )));
            };
            let identity = secrets::read_age_identity(path)?;
            body.insert("identity".to_owned(), json!(identity.expose_secret()));
        }
    }
    body.insert(
        "bundle".to_owned(),
        json!(base64::engine::general_purpose::STANDARD.encode(&bundle)),
    );
    body.insert("ids".to_owned(), json!(args.ids));
    let reply = api
        .call(
            Method::POST,
            &["credentials", "import"],
            &[],
            Some(JsonBody::from_value(Value::Object(body))?),
            None,
        )
        .await?;
    if json {
        return output::json(&reply.body);
    }
    output::emit(&outcomes(&reply.body))?;
    eprintln!("{}", summary(&reply.body));
    Ok(())
}

fn source(args: &PassphraseArgs) -> Source {
    Source::from_flags(args.passphrase_file.clone(), args.passphrase_stdin)
}

fn exists(path: &Path) -> CliError {
    CliError::usage(format!(
        "{} exists: give --force to replace it, or another --out",
        path.display()
    ))
}

/// The directory a file goes in.
fn directory(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// "1 credential", "3 credentials".
fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Writes `bytes` to `path` whole or not at all, never readable by others: a temporary
/// file with mode 0600 in the same directory, then renamed over `path` (`replace`), or
/// linked to it, which fails if `path` has come to exist meanwhile.
fn write_whole(path: &Path, bytes: &[u8], replace: bool) -> Result<(), CliError> {
    let name = path
        .file_name()
        .ok_or_else(|| CliError::usage(format!("--out {} names no file", path.display())))?;
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = directory(path).join(temp_name);
    let write = || -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        if replace {
            return fs::rename(&temp, path);
        }
        match fs::hard_link(&temp, path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == ErrorKind::AlreadyExists => Err(error),
            // A file system without hard links: the look before the rename is all there is.
            Err(_) if fs::symlink_metadata(path).is_err() => fs::rename(&temp, path),
            Err(_) => Err(ErrorKind::AlreadyExists.into()),
        }
    };
    let written = write();
    // Gone already after a rename; the temporary name of a link, or half a file.
    let _ = fs::remove_file(&temp);
    match written {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => Err(exists(path)),
        Err(error) => Err(CliError::local(format!(
            "cannot write {}: {error}",
            path.display()
        ))),
    }
}

/// The bundle file's bytes, at most [`MAX_BUNDLE_BYTES`] (the most an import takes).
fn read_bundle(path: &Path) -> Result<Vec<u8>, CliError> {
    let cannot =
        |error: std::io::Error| CliError::local(format!("cannot read {}: {error}", path.display()));
    let file = fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(MAX_BUNDLE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(CliError::usage(format!(
            "{} is larger than {} MiB, the most a bundle can be",
            path.display(),
            MAX_BUNDLE_BYTES / (1024 * 1024)
        )));
    }
    Ok(bytes)
}

/// Whom a bundle is sealed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sealing {
    /// A passphrase (age's scrypt recipient).
    Passphrase,
    /// Public keys (X25519 `age1...`, or any other recipient type).
    PublicKeys,
}

/// Reads an age header: the version line, then a stanza per recipient (`-> TYPE ARGS...`,
/// then its body lines), up to the MAC line (`--- ...`). A passphrase's stanza is
/// `-> scrypt SALT LOG_N`. `Err` says, without quoting the file, why it is no age file.
fn sealing(bundle: &[u8]) -> Result<Sealing, &'static str> {
    let mut lines = bundle.split(|byte| *byte == b'\n');
    if lines.next() != Some(AGE_MAGIC) {
        return Err(if bundle.starts_with(AGE_ARMOR) {
            "it is an armored age file (-----BEGIN AGE ENCRYPTED FILE-----), and the vault \
             takes only the binary form"
        } else {
            "it is not an age file (its first line is not age-encryption.org/v1)"
        });
    }
    let mut stanzas = 0_usize;
    let mut passphrase = false;
    for line in lines {
        if line.starts_with(b"--- ") {
            return match (stanzas, passphrase) {
                (0, _) => Err("its age header names no recipient"),
                (_, true) => Ok(Sealing::Passphrase),
                (_, false) => Ok(Sealing::PublicKeys),
            };
        }
        if let Some(stanza) = line.strip_prefix(b"-> ") {
            stanzas += 1;
            passphrase |= stanza.split(|byte| *byte == b' ').next() == Some(b"scrypt");
        }
    }
    Err("its age header is cut short")
}

/// What an import did to each credential, as a table; the id it had in the bundle only
/// when it has another here (`--ids new`).
fn outcomes(answer: &Value) -> String {
    let renamed = items(answer)
        .iter()
        .any(|item| item.get("sourceId") != item.get("id"));
    let mut header = vec!["OUTCOME", "NAME", "ID"];
    if renamed {
        header.push("SOURCE ID");
    }
    let rows = items(answer).iter().map(|item| {
        let outcome = match item.get("outcome").and_then(Value::as_str) {
            Some("created") => "created".to_owned(),
            Some("exists") => "already here".to_owned(),
            Some("idTaken") => "id taken".to_owned(),
            other => other.unwrap_or("-").to_owned(),
        };
        let mut row = vec![outcome, cell(item.get("name")), cell(item.get("id"))];
        if renamed {
            row.push(if item.get("sourceId") == item.get("id") {
                "-".to_owned()
            } else {
                cell(item.get("sourceId"))
            });
        }
        row
    });
    table(&header, rows)
}

/// The counts of an import, and what to do about credentials whose ids are taken.
fn summary(answer: &Value) -> String {
    let mut line = format!(
        "Created {}, already here {}, id taken {}.",
        cell(answer.get("created")),
        cell(answer.get("existing")),
        cell(answer.get("idTaken")),
    );
    let taken = answer.get("idTaken").and_then(Value::as_u64).unwrap_or(0);
    if taken > 0 {
        line.push_str(&format!(
            "\n{} not imported: another organization here has their ids. Import again with \
             --ids new to give them new ones.",
            plural(taken, "credential")
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_says_whom_a_bundle_is_sealed_to() {
        let passphrase = b"age-encryption.org/v1\n-> scrypt c2FsdA 18\nYm9keQ\n--- bWFj\n\x00\xff";
        assert_eq!(sealing(passphrase), Ok(Sealing::Passphrase));
        let keys = b"age-encryption.org/v1\n-> X25519 YQ\nYg\n-> X25519 Yw\nZA\n--- bWFj\n\x01";
        assert_eq!(sealing(keys), Ok(Sealing::PublicKeys));
        assert!(sealing(b"age-encryption.org/v1\n--- bWFj\n").is_err());
        assert!(sealing(b"age-encryption.org/v1\n-> scrypt c2FsdA 18\n").is_err());
        let armored = b"-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n";
        assert!(sealing(armored).is_err_and(|why| why.contains("armored")));
        assert!(sealing(b"{\"not\": \"age\"}").is_err_and(|why| why.contains("not an age")));
    }

    #[test]
    fn a_written_bundle_is_0600_whole_and_replaces_only_with_force() {
        use std::os::unix::fs::PermissionsExt as _;

        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bundle.age");
        write_whole(&path, b"first", false).expect("written");
        let mode = fs::metadata(&path).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(
            write_whole(&path, b"second", false),
            Err(CliError::Usage(_))
        ));
        assert_eq!(fs::read(&path).expect("read"), b"first");
        write_whole(&path, b"third", true).expect("replaced");
        assert_eq!(fs::read(&path).expect("read"), b"third");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("listed")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["bundle.age"], "no temporary file is left");
    }

    #[test]
    fn the_table_shows_source_ids_only_when_they_differ() {
        let kept = json!({"created": 1, "existing": 0, "idTaken": 0, "items": [
            {"sourceId": "a", "id": "a", "name": "Stripe", "outcome": "created"}]});
        assert!(!outcomes(&kept).contains("SOURCE ID"));
        let new = json!({"created": 0, "existing": 1, "idTaken": 1, "items": [
            {"sourceId": "a", "id": "b", "name": "Stripe", "outcome": "exists"},
            {"sourceId": "c", "id": "c", "name": "Jenkins", "outcome": "idTaken"}]});
        let shown = outcomes(&new);
        assert!(
            shown.contains("SOURCE ID") && shown.contains("already here"),
            "{shown}"
        );
        assert!(shown.contains("id taken"), "{shown}");
        let summary = summary(&new);
        assert!(summary.starts_with("Created 0, already here 1, id taken 1."));
        assert!(summary.contains("--ids new"), "{summary}");
    }
}
