//! Every surface knows exactly the credential types the server describes: the client's
//! flags and the served OpenAPI document, against `GET /credential-types`.

use reqwest::StatusCode;

use super::Env;

/// The CLI flag that sets a public field, by the client's convention: the field's name in
/// kebab case, in the singular for a field given one entry per flag (lists, objects, the
/// names of a secret map), and one flag per part of a placement.
fn flag_of(field: &str, kind: &str) -> String {
    let mut flag = "--".to_owned();
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            flag.push('-');
        }
        flag.push(c.to_ascii_lowercase());
    }
    match kind {
        "textList" | "object" | "secretMap" => flag.strip_suffix('s').unwrap_or(&flag).to_owned(),
        "placement" => format!("{flag}-name"),
        _ => flag,
    }
}

/// Every surface knows exactly the types the server describes: the API's
/// `/credential-types`, the served OpenAPI document, and the client, whose `--type` takes
/// exactly those and which has a flag for every public field (and the names of a
/// secret map). The console is held to the same list by its own tests.
#[tokio::test]
async fn the_client_and_the_document_know_exactly_the_types_the_server_describes() {
    let env = Env::start(false);
    let described = env.get("/credential-types").await;
    assert_eq!(described.status, StatusCode::OK, "{}", described.body);
    let described = described.json();
    let types: Vec<&str> = described["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["type"].as_str().expect("type"))
        .collect();
    assert!(!types.is_empty());

    let document = env.get("/openapi.json").await.json();
    let mut documented: Vec<&str> = document["components"]["schemas"]["CredentialType"]["enum"]
        .as_array()
        .expect("the type enum")
        .iter()
        .map(|t| t.as_str().expect("name"))
        .collect();
    let mut mapped: Vec<&str> =
        document["components"]["schemas"]["CredentialCreate"]["discriminator"]["mapping"]
            .as_object()
            .expect("mapping")
            .keys()
            .map(String::as_str)
            .collect();
    let mut expected = types.clone();
    expected.sort_unstable();
    documented.sort_unstable();
    mapped.sort_unstable();
    assert_eq!(documented, expected);
    assert_eq!(mapped, expected);

    let help = env.vault(&["credentials", "create", "--help"]).ok().stdout;
    let possible = help
        .split("[possible values: ")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("--type lists its values");
    let mut known: Vec<&str> = possible.split(", ").collect();
    known.sort_unstable();
    assert_eq!(known, expected, "the client's --type values");
    for spec in described["items"].as_array().expect("items") {
        for field in spec["fields"].as_array().expect("fields") {
            let kind = field["shape"]["kind"].as_str().expect("kind");
            if kind == "secret" || kind == "secretPem" {
                continue;
            }
            let name = field["name"].as_str().expect("name");
            let flag = flag_of(name, kind);
            assert!(
                help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                "{}.{name}: the client has no {flag}",
                spec["type"]
            );
        }
    }
}
