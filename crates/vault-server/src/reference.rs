//! The configuration reference in the README, generated from the real [`Settings`] struct
//! (its field names, read from its `Deserialize` implementation) and from
//! `config/default.toml` (each key's default and the comment above it). A test holds the
//! README to it; `vault-server config-reference` prints it.

use serde::de::{self, Deserializer, Visitor};

use crate::settings::{DEFAULTS, PLAIN_ENV_KEYS, Settings};

/// The README lines between which the generated table sits.
pub const BEGIN_MARKER: &str =
    "<!-- config-reference:begin (generated: vault-server config-reference) -->";
/// See [`BEGIN_MARKER`].
pub const END_MARKER: &str = "<!-- config-reference:end -->";

/// Every field of [`Settings`], as serde sees them: the struct itself is the source.
#[must_use]
pub fn setting_names() -> &'static [&'static str] {
    let mut capture = FieldCapture(None);
    // The capture deserializer answers nothing but the struct's field list, so this
    // "deserialization" always fails, after recording the names.
    let _ = <Settings as serde::Deserialize>::deserialize(&mut capture);
    capture.0.unwrap_or(&[])
}

struct FieldCapture(Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for &mut FieldCapture {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only the field names are read"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = Some(fields);
        Err(de::Error::custom("only the field names are read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// A key and its default (`None`: unset by default).
type KeyDefault = (String, Option<String>);

/// One row: keys that share a comment in `config/default.toml`.
#[derive(Debug, PartialEq, Eq)]
struct Row {
    keys: Vec<KeyDefault>,
    meaning: String,
}

/// Reads `config/default.toml`: each `key = value` (or `# key = example`, a key unset by
/// default) with the comment paragraph above it.
fn rows(names: &[&str]) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    let mut paragraph: Vec<String> = Vec::new();
    let mut paragraph_used = false;
    for line in DEFAULTS.lines() {
        let line = line.trim();
        if line.is_empty() {
            paragraph.clear();
            paragraph_used = false;
            continue;
        }
        let (commented, body) = match line.strip_prefix('#') {
            Some(rest) => (true, rest.trim()),
            None => (false, line),
        };
        let key = body
            .split_once('=')
            .map(|(k, _)| k.trim())
            .filter(|k| names.contains(k));
        match key {
            Some(key) => {
                let default = (!commented).then(|| {
                    body.split_once('=')
                        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
                        .unwrap_or_default()
                });
                let meaning = paragraph.join(" ");
                match out.last_mut() {
                    // Keys under one comment share a row.
                    Some(last) if paragraph_used => last.keys.push((key.to_owned(), default)),
                    _ => out.push(Row {
                        keys: vec![(key.to_owned(), default)],
                        meaning,
                    }),
                }
                paragraph_used = true;
            }
            None if commented => {
                if paragraph_used {
                    // A new comment after keys starts a new paragraph.
                    paragraph.clear();
                    paragraph_used = false;
                }
                paragraph.push(body.to_owned());
            }
            None => {}
        }
    }
    out
}

fn environment(key: &str) -> String {
    let prefixed = format!("`VAULT_{}`", key.to_ascii_uppercase());
    if PLAIN_ENV_KEYS.contains(&key) {
        format!("`{}`, {prefixed}", key.to_ascii_uppercase())
    } else {
        prefixed
    }
}

/// The Markdown table, between the README markers.
#[must_use]
pub fn markdown() -> String {
    let names = setting_names();
    let mut out = String::new();
    out.push_str(BEGIN_MARKER);
    out.push_str("\n\n| setting | environment | default | meaning |\n|---|---|---|---|\n");
    for row in rows(names) {
        let column = |f: &dyn Fn(&KeyDefault) -> String| {
            row.keys.iter().map(f).collect::<Vec<_>>().join("<br>")
        };
        let settings = column(&|(k, _)| format!("`{k}`"));
        let env = column(&|(k, _)| environment(k));
        let defaults = column(&|(_, d)| match d {
            Some(d) if d.is_empty() => "(empty)".to_owned(),
            Some(d) => format!("`{d}`"),
            None => "unset".to_owned(),
        });
        out.push_str(&format!(
            "| {settings} | {env} | {defaults} | {} |\n",
            row.meaning.replace('|', "\\|")
        ));
    }
    out.push('\n');
    out.push_str(END_MARKER);
    out
}

/// The settings missing from `config/default.toml` (each must be there, documented, even
/// if only as a commented example).
#[must_use]
pub fn undocumented() -> Vec<&'static str> {
    let names = setting_names();
    let documented: Vec<String> = rows(names)
        .into_iter()
        .flat_map(|r| r.keys.into_iter().map(|(k, _)| k))
        .collect();
    names
        .iter()
        .copied()
        .filter(|n| !documented.iter().any(|d| d == n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = include_str!("../../../README.md");

    #[test]
    fn the_field_names_come_from_the_struct() {
        let names = setting_names();
        assert!(names.contains(&"bind"));
        assert!(names.contains(&"rate_limit_per_second"));
        assert!(names.contains(&"idp_issuer"));
        assert!(names.len() >= 30, "{names:?}");
    }

    #[test]
    fn every_setting_is_documented_in_the_defaults_file() {
        assert_eq!(undocumented(), Vec::<&str>::new());
    }

    #[test]
    fn every_setting_can_come_from_the_environment() {
        for name in setting_names() {
            assert!(
                crate::settings::settable_from_environment(name),
                "{name} cannot be set from the environment"
            );
        }
    }

    #[test]
    fn the_readme_reference_is_the_generated_one() {
        let generated = markdown();
        let start = README
            .find(BEGIN_MARKER)
            .expect("README has the begin marker");
        let end = README.find(END_MARKER).expect("README has the end marker") + END_MARKER.len();
        assert!(
            README[start..end] == generated,
            "README.md's configuration reference is stale; replace it with the output of \
             `cargo run -q -p vault-server -- config-reference`:\n{generated}"
        );
    }

    #[test]
    fn keys_under_one_comment_share_a_row() {
        let rows = rows(setting_names());
        let timeouts = rows
            .iter()
            .find(|r| r.keys.iter().any(|(k, _)| k == "proxy_timeout_ms"))
            .expect("row");
        assert!(
            timeouts
                .keys
                .iter()
                .any(|(k, _)| k == "proxy_connect_timeout_ms")
        );
        let issuer = rows
            .iter()
            .flat_map(|r| &r.keys)
            .find(|(k, _)| k == "idp_issuer")
            .expect("idp_issuer");
        assert_eq!(issuer.1, None, "commented out: unset by default");
    }
}
