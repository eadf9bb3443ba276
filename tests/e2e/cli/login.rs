//! `vault login` and its config file: the key checked against the server and saved in a
//! 0600 file, a file others can read refused, the saved key sent only to its server, the
//! environment's key used alone, and `vault logout` forgetting the login.

use super::*;

#[tokio::test]
async fn login_checks_the_key_and_saves_it_in_a_0600_file() {
    let env = Env::start(false);
    let config = env.config_path();

    // A wrong key: refused by the server, nothing saved.
    let wrong = "vlt_0000000000000000000000000000000000000000AAAAAA";
    let run = env
        .vault_in(&["login", "--server", &env.base, "--key-stdin"], wrong)
        .failed(3);
    assert!(run.stderr.contains("unauthorized"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was saved"), "{}", run.stderr);
    assert!(!config.exists(), "a refused key is not saved");

    // Without --key-stdin and without a terminal there is no one to ask.
    let run = env
        .vault_in(&["login", "--server", &env.base], &env.admin)
        .failed(2);
    assert!(run.stderr.contains("--key-stdin"), "{}", run.stderr);
    assert!(!config.exists());

    // The right key, from stdin: saved with mode 0600 in a 0700 directory.
    let run = env
        .vault_in(
            &["login", "--server", &env.base, "--key-stdin"],
            &format!("{}\n", env.admin),
        )
        .ok();
    assert!(!run.stderr.contains(&env.admin) && !run.stdout.contains(&env.admin));
    let mode = |p: &Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&config), 0o600);
    assert_eq!(mode(config.parent().expect("dir")), 0o700);
    let saved = std::fs::read_to_string(&config).expect("config");
    assert!(
        saved.contains(&env.base) && saved.contains(&env.admin),
        "{saved}"
    );

    // The saved key works (VAULT_ADDR points elsewhere: it is not read).
    env.vault(&["credentials", "list"]).ok();

    // Logout forgets the login whole: the key and the server.
    env.vault(&["logout"]).ok();
    assert!(!config.exists(), "the config file outlived the logout");
    let again = env.vault(&["logout"]).ok();
    assert!(again.stderr.contains("Not logged in"), "{}", again.stderr);
    let run = env.vault(&["credentials", "list"]).failed(2);
    assert!(
        run.stderr.contains("vault login --server"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_config_file_others_can_read_is_refused() {
    let env = Env::start(false);
    env.login();
    let config = env.config_path();
    for mode in [0o640, 0o604] {
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let run = env.vault(&["credentials", "list"]).failed(1);
        assert!(
            run.stderr
                .contains(&format!("chmod 600 {}", config.display())),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains(&env.admin));
    }
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    env.vault(&["credentials", "list"]).ok();
}

#[tokio::test]
async fn the_saved_key_goes_only_to_its_server_and_the_environment_key_works_alone() {
    let env = Env::start(false);
    env.login();

    // Another server: the saved key is not sent there (the address is unreachable, so
    // anything but this refusal would show as a connection error).
    let run = env
        .vault(&["--server", "http://127.0.0.1:9", "credentials", "list"])
        .failed(2);
    assert!(
        run.stderr.contains("the saved access key is for"),
        "{}",
        run.stderr
    );

    // VAULT_CLI_ACCESS_KEY and VAULT_CLI_SERVER without any config file.
    std::fs::remove_file(env.config_path()).expect("removed");
    let run = env
        .vault_with(
            &["credentials", "list", "--json"],
            "",
            &[
                ("VAULT_CLI_SERVER", env.base.as_str()),
                ("VAULT_CLI_ACCESS_KEY", env.admin.as_str()),
            ],
        )
        .ok();
    assert_eq!(run.json()["items"], json!([]));
    assert!(
        !env.config_path().exists(),
        "nothing is saved without login"
    );
}
