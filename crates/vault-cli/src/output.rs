//! stdout: tables for people, the server's JSON for scripts. Messages go to stderr, so that
//! stdout holds only data.

use std::io::Write as _;

use comfy_table::{Table, presets};
use serde_json::Value;

use crate::error::CliError;

/// Writes `text` and a newline to stdout. A closed pipe (`vault ... | head`) is not an
/// error.
pub(crate) fn emit(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(CliError::local(format!("cannot write to stdout: {error}"))),
    }
}

/// Writes `text` and a newline to stdout, for output that goes on until stopped (`vault
/// audit tail`): `Ok(false)` once stdout is closed (`vault audit tail | head -3`), so that
/// the command stops rather than run on writing to no one.
pub(crate) fn emit_open(text: &str) -> Result<bool, CliError> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(error) => Err(CliError::local(format!("cannot write to stdout: {error}"))),
    }
}

/// The server's JSON, pretty-printed (keys in alphabetical order).
pub(crate) fn json(value: &Value) -> Result<(), CliError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|_| CliError::local("cannot encode JSON"))?;
    emit(&text)
}

/// A table with a header row, no borders: easy to read and to `grep`/`awk`.
pub(crate) fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_header(header.to_vec());
    for row in rows {
        table.add_row(row);
    }
    // comfy-table pads the first column with a leading space: drop it on every line.
    table
        .lines()
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One value as table text: strings as they are, lists joined, objects as compact JSON,
/// absent or null as `-`.
pub(crate) fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(text)) if text.is_empty() => "-".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) if items.is_empty() => "-".to_owned(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| cell(Some(item)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Object(map)) if map.is_empty() => "-".to_owned(),
        Some(other) => other.to_string(),
    }
}

/// The `items` of a list answer.
pub(crate) fn items(page: &Value) -> &[Value] {
    page.get("items")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A field/value table of one object: the fields in `order` first, then any others.
pub(crate) fn record(object: &Value, order: &[&str]) -> String {
    let Some(map) = object.as_object() else {
        return cell(Some(object));
    };
    let mut rows: Vec<Vec<String>> = order
        .iter()
        .filter(|field| map.contains_key(**field))
        .map(|field| vec![(*field).to_owned(), cell(map.get(*field))])
        .collect();
    rows.extend(
        map.iter()
            .filter(|(field, _)| !order.contains(&field.as_str()))
            .map(|(field, value)| vec![field.clone(), cell(Some(value))]),
    );
    table(&["FIELD", "VALUE"], rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cells_render_each_json_type() {
        assert_eq!(cell(None), "-");
        assert_eq!(cell(Some(&json!(null))), "-");
        assert_eq!(cell(Some(&json!("x"))), "x");
        assert_eq!(cell(Some(&json!(["a", "b"]))), "a, b");
        assert_eq!(cell(Some(&json!(3))), "3");
        assert_eq!(cell(Some(&json!({"in": "header"}))), r#"{"in":"header"}"#);
    }

    #[test]
    fn a_table_has_its_header_and_rows() {
        let text = table(
            &["ID", "NAME"],
            [vec!["1".to_owned(), "Stripe key".to_owned()]],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("ID"), "{text}");
        assert!(
            lines[1].starts_with('1') && lines[1].contains("Stripe key"),
            "{text}"
        );
    }

    #[test]
    fn a_record_lists_known_fields_first() {
        let text = record(&json!({"z": 1, "name": "n", "id": "i"}), &["id", "name"]);
        let fields: Vec<&str> = text
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(fields, ["id", "name", "z"]);
    }
}
