//! The flags of the type-specific public fields, made from the credential types'
//! descriptions (`vault_core::credential_types`), the same ones the API serves at
//! `GET /credential-types`: a field gets a flag named after it (`clientId` is
//! `--client-id`), a list or object field one flag per entry named in the singular
//! (`--scope`, `--claim NAME=VALUE`), a placement one flag per part (`--placement-in`,
//! `--placement-name`, `--placement-prefix`), and a secret map a flag naming the entries
//! to prompt for (`--header NAME`). No secret is ever a flag.

use std::collections::BTreeMap;

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use serde_json::{Map, Value, json};
use vault_core::credential_types::{FieldShape, FieldSpec, SPECS};

/// Other names some flags also answer to.
const ALIASES: [(&str, &str); 1] = [("ttl-seconds", "ttl")];

/// The value of one type-specific field as given on the command line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Given {
    /// A field with one value (text, URL, choice, number), or the parts of a placement.
    Value(Value),
    /// Entries to lay over the current object (`--claim NAME=VALUE`).
    Entries(Vec<(String, String)>),
    /// Names of a secret map's entries, whose values are read as secrets (`--header`).
    SecretNames(Vec<String>),
}

/// The type-specific fields given as flags, by API field name.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct TypeFlags {
    pub(crate) given: BTreeMap<&'static str, Given>,
}

impl TypeFlags {
    /// The names of the secret map entries given for `field` (none when not given).
    pub(crate) fn secret_names(&self, field: &str) -> &[String] {
        match self.given.get(field) {
            Some(Given::SecretNames(names)) => names,
            _ => &[],
        }
    }
}

/// Every type-specific field that has flags, once, with the types that take it.
fn flagged_fields() -> Vec<(&'static FieldSpec, Vec<&'static str>)> {
    let mut fields: Vec<(&'static FieldSpec, Vec<&'static str>)> = Vec::new();
    for spec in SPECS {
        for field in spec.fields {
            if field.is_secret() && !matches!(field.shape, FieldShape::SecretMap { .. }) {
                continue;
            }
            let kind = spec.credential_type.as_str();
            match fields.iter_mut().find(|(f, _)| f.name == field.name) {
                Some((_, types)) => types.push(kind),
                None => fields.push((field, vec![kind])),
            }
        }
    }
    fields
}

/// The flags of the field named `name`, for a message (`header`, or
/// `placement-in, --placement-name, --placement-prefix`).
pub(crate) fn flags_for(name: &str) -> String {
    flagged_fields()
        .into_iter()
        .find(|(field, _)| field.name == name)
        .map(|(field, _)| flags_of(field).join(", --"))
        .unwrap_or_default()
}

/// The types that take the field named `name`.
pub(crate) fn types_taking(name: &str) -> Vec<&'static str> {
    flagged_fields()
        .into_iter()
        .find(|(field, _)| field.name == name)
        .map(|(_, types)| types)
        .unwrap_or_default()
}

/// `clientId` -> `client-id`.
pub(crate) fn kebab(name: &str) -> String {
    let mut flag = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            flag.push('-');
        }
        flag.push(c.to_ascii_lowercase());
    }
    flag
}

/// The flag of one entry of a list or map field: `scopes` -> `scope`.
fn singular(name: &str) -> String {
    let flag = kebab(name);
    flag.strip_suffix('s').map_or(flag.clone(), str::to_owned)
}

/// The flags (without `--`) that set `field`.
pub(crate) fn flags_of(field: &FieldSpec) -> Vec<String> {
    match field.shape {
        FieldShape::TextList | FieldShape::Object | FieldShape::SecretMap { .. } => {
            vec![singular(field.name)]
        }
        FieldShape::Placement { .. } => ["in", "name", "prefix"]
            .iter()
            .map(|part| format!("{}-{part}", kebab(field.name)))
            .collect(),
        _ => vec![kebab(field.name)],
    }
}

fn args_of(field: &'static FieldSpec, types: &[&str]) -> Vec<Arg> {
    let heading = types.join(" and ");
    let arg = |flag: String| {
        let mut arg = Arg::new(flag.clone())
            .long(flag.clone())
            .help(field.description)
            .help_heading(heading.clone());
        for (name, alias) in ALIASES {
            if name == flag {
                arg = arg.visible_alias(alias);
            }
        }
        arg
    };
    let flags = flags_of(field);
    match field.shape {
        FieldShape::Text { .. } => vec![arg(flags[0].clone()).value_name("TEXT")],
        FieldShape::Url => vec![arg(flags[0].clone()).value_name("URL")],
        FieldShape::Choice { options } => vec![
            arg(flags[0].clone())
                .value_name(flags[0].to_uppercase().replace('-', "_"))
                .value_parser(PossibleValuesParser::new(options)),
        ],
        FieldShape::Integer { minimum, maximum } => vec![
            arg(flags[0].clone())
                .value_name("NUMBER")
                .value_parser(clap::value_parser!(i64).range(minimum..=maximum)),
        ],
        FieldShape::TextList => vec![
            arg(flags[0].clone())
                .value_name("VALUE")
                .action(ArgAction::Append)
                .help(format!(
                    "{} (repeat; replaces the list on update)",
                    field.description
                )),
        ],
        FieldShape::Object => vec![
            arg(flags[0].clone())
                .value_name("NAME=VALUE")
                .action(ArgAction::Append)
                .value_parser(parse_entry)
                .help(format!(
                    "{} One entry, as a string (repeat).",
                    field.description
                )),
        ],
        FieldShape::SecretMap { .. } => vec![
            arg(flags[0].clone())
                .value_name("NAME")
                .action(ArgAction::Append)
                .help("An entry to prompt for (repeat); its value is read without echo."),
        ],
        FieldShape::Placement { .. } => vec![
            arg(flags[0].clone())
                .value_name("WHERE")
                .value_parser(PossibleValuesParser::new(["header", "query"]))
                .help("Put the value in a header or a query parameter."),
            arg(flags[1].clone())
                .value_name("NAME")
                .help("The header or query parameter's name."),
            arg(flags[2].clone())
                .value_name("TEXT")
                .help("Text put before the value, e.g. \"Bearer \" (\"\" for none)."),
        ],
        FieldShape::Secret { .. } | FieldShape::SecretPem => Vec::new(),
    }
}

fn parse_entry(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err("expected NAME=VALUE".to_owned()),
    }
}

fn given(field: &FieldSpec, matches: &ArgMatches) -> Option<Given> {
    let flags = flags_of(field);
    let one = |flag: &str| matches.get_one::<String>(flag).cloned();
    let many = |flag: &str| -> Vec<String> {
        matches
            .get_many::<String>(flag)
            .map(|values| values.cloned().collect())
            .unwrap_or_default()
    };
    match field.shape {
        FieldShape::Text { .. } | FieldShape::Url | FieldShape::Choice { .. } => {
            one(&flags[0]).map(|text| Given::Value(json!(text)))
        }
        FieldShape::Integer { .. } => matches
            .get_one::<i64>(&flags[0])
            .map(|number| Given::Value(json!(number))),
        FieldShape::TextList => {
            let values = many(&flags[0]);
            (!values.is_empty()).then(|| Given::Value(json!(values)))
        }
        FieldShape::Object => {
            let entries: Vec<(String, String)> = matches
                .get_many::<(String, String)>(&flags[0])
                .map(|values| values.cloned().collect())
                .unwrap_or_default();
            (!entries.is_empty()).then_some(Given::Entries(entries))
        }
        FieldShape::SecretMap { .. } => {
            let names = many(&flags[0]);
            (!names.is_empty()).then_some(Given::SecretNames(names))
        }
        FieldShape::Placement { .. } => {
            let mut parts = Map::new();
            for (part, flag) in ["in", "name", "prefix"].iter().zip(&flags) {
                if let Some(value) = one(flag) {
                    parts.insert((*part).to_owned(), json!(value));
                }
            }
            (!parts.is_empty()).then_some(Given::Value(Value::Object(parts)))
        }
        FieldShape::Secret { .. } | FieldShape::SecretPem => None,
    }
}

impl FromArgMatches for TypeFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = Self::default();
        flags.update_from_arg_matches(matches)?;
        Ok(flags)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for (field, _) in flagged_fields() {
            if let Some(value) = given(field, matches) {
                self.given.insert(field.name, value);
            }
        }
        Ok(())
    }
}

impl Args for TypeFlags {
    fn augment_args(command: Command) -> Command {
        flagged_fields()
            .into_iter()
            .flat_map(|(field, types)| args_of(field, &types))
            .fold(command, Command::arg)
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

#[cfg(test)]
mod tests {
    use vault_core::credential_types::Required;

    use super::*;

    fn field(name: &'static str, shape: FieldShape) -> &'static FieldSpec {
        Box::leak(Box::new(FieldSpec {
            name,
            label: name,
            shape,
            required: Required::Never,
            nullable: false,
            description: "A field.",
        }))
    }

    const MODE: FieldShape = FieldShape::Choice {
        options: &["a", "b"],
    };
    const WINDOW: FieldShape = FieldShape::Integer {
        minimum: 1,
        maximum: 9,
    };

    /// A command with the flags of the fields a new type might have.
    fn command(fields: &[&'static FieldSpec]) -> Command {
        fields
            .iter()
            .flat_map(|f| args_of(f, &["new_type"]))
            .fold(Command::new("t"), Command::arg)
    }

    /// The fields given by `args`.
    fn parse(fields: &[&'static FieldSpec], args: &[&str]) -> BTreeMap<&'static str, Given> {
        let matches = command(fields)
            .try_get_matches_from(std::iter::once("t").chain(args.iter().copied()))
            .expect("parses");
        fields
            .iter()
            .filter_map(|f| Some((f.name, given(f, &matches)?)))
            .collect()
    }

    #[test]
    fn each_shape_has_its_flags_and_values() {
        let fields = [
            field("accessKeyId", FieldShape::Text { max_length: 64 }),
            field("endpointUrl", FieldShape::Url),
            field("mode", MODE),
            field("windowSeconds", WINDOW),
            field("regions", FieldShape::TextList),
            field("labels", FieldShape::Object),
            field(
                "signature",
                FieldShape::Placement {
                    query: true,
                    default_name: "X-Sig",
                    default_prefix: "",
                },
            ),
            field(
                "tokens",
                FieldShape::SecretMap {
                    names: "tokenNames",
                },
            ),
        ];
        let given = parse(
            &fields,
            &[
                "--access-key-id",
                "AKIA",
                "--endpoint-url",
                "https://x",
                "--mode",
                "b",
                "--window-seconds",
                "5",
                "--region",
                "eu",
                "--region",
                "us",
                "--label",
                "team=core",
                "--signature-in",
                "query",
                "--signature-name",
                "sig",
                "--token",
                "T1",
            ],
        );
        assert_eq!(given["accessKeyId"], Given::Value(json!("AKIA")));
        assert_eq!(given["endpointUrl"], Given::Value(json!("https://x")));
        assert_eq!(given["mode"], Given::Value(json!("b")));
        assert_eq!(given["windowSeconds"], Given::Value(json!(5)));
        assert_eq!(given["regions"], Given::Value(json!(["eu", "us"])));
        assert_eq!(
            given["labels"],
            Given::Entries(vec![("team".to_owned(), "core".to_owned())])
        );
        assert_eq!(
            given["signature"],
            Given::Value(json!({"in": "query", "name": "sig"}))
        );
        assert_eq!(given["tokens"], Given::SecretNames(vec!["T1".to_owned()]));
        assert!(parse(&fields, &[]).is_empty(), "nothing given, nothing set");
    }

    #[test]
    fn values_outside_a_choice_or_range_are_refused() {
        let fields = [field("mode", MODE), field("windowSeconds", WINDOW)];
        for bad in [["--mode", "c"], ["--window-seconds", "10"]] {
            assert!(
                command(&fields)
                    .try_get_matches_from(std::iter::once("t").chain(bad))
                    .is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn secrets_have_no_flag() {
        for shape in [FieldShape::Secret { hint: true }, FieldShape::SecretPem] {
            assert!(args_of(field("token", shape), &["t"]).is_empty());
        }
    }
}
