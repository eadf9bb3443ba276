//! The shared credentials file (`~/.aws/credentials`): an INI file of `[profile]` sections
//! with `key = value` lines. Only the three static-credential keys are read.

use secrecy::SecretString;

/// What a profile holds of static credentials.
pub(crate) struct ProfileKeys {
    pub(crate) access_key_id: Option<String>,
    pub(crate) secret_access_key: Option<SecretString>,
    pub(crate) session_token: Option<SecretString>,
}

/// The keys of profile `name` in `text`, `None` when it has no such section.
///
/// As the AWS CLI reads it: `#` and `;` start comment lines, names and keys are trimmed,
/// keys are case-insensitive, a section that appears twice is merged (the later value
/// wins), and an empty value counts as absent.
pub(crate) fn find(text: &str, name: &str) -> Option<ProfileKeys> {
    let mut found: Option<ProfileKeys> = None;
    let mut in_profile = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[') {
            let section = section.split_once(']').map_or(section, |(s, _)| s).trim();
            in_profile = section == name;
            if in_profile && found.is_none() {
                found = Some(ProfileKeys {
                    access_key_id: None,
                    secret_access_key: None,
                    session_token: None,
                });
            }
            continue;
        }
        let (Some(keys), Some((key, value))) = (found.as_mut(), line.split_once('=')) else {
            continue;
        };
        if !in_profile {
            continue;
        }
        let value = value.trim();
        let present = (!value.is_empty()).then_some(value);
        match key.trim().to_ascii_lowercase().as_str() {
            "aws_access_key_id" => keys.access_key_id = present.map(str::to_owned),
            "aws_secret_access_key" => {
                keys.secret_access_key = present.map(SecretString::from);
            }
            "aws_session_token" => keys.session_token = present.map(SecretString::from),
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    const FILE: &str = "\
# a comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = default/secret

; another comment
[ vault ]
AWS_ACCESS_KEY_ID=AKIDVAULT
aws_secret_access_key =   vault/secret+with=equals
region = eu-west-1
[other]
aws_access_key_id = AKIDOTHER
[vault]
aws_session_token = token==
";

    #[test]
    fn finds_the_named_profile_merged() {
        let keys = find(FILE, "vault").expect("vault profile");
        assert_eq!(keys.access_key_id.as_deref(), Some("AKIDVAULT"));
        assert_eq!(
            keys.secret_access_key.expect("secret").expose_secret(),
            "vault/secret+with=equals"
        );
        assert_eq!(
            keys.session_token.expect("token").expose_secret(),
            "token=="
        );
    }

    #[test]
    fn other_sections_do_not_leak_in() {
        let keys = find(FILE, "default").expect("default profile");
        assert_eq!(keys.access_key_id.as_deref(), Some("AKIDDEFAULT"));
        assert!(keys.session_token.is_none());
        let other = find(FILE, "other").expect("other profile");
        assert!(other.secret_access_key.is_none());
        assert!(find(FILE, "missing").is_none());
        assert!(find("aws_access_key_id = X\n", "default").is_none());
    }
}
