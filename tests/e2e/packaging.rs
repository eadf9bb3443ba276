//! The container image's recipe, checked statically (no Docker engine runs on the CI
//! machine): a multi-stage build whose runtime stage runs as a non-root user, carries no
//! toolchain and no secret, and starts the server.

const DOCKERFILE: &str = include_str!("../../Dockerfile");
const DOCKERIGNORE: &str = include_str!("../../.dockerignore");

/// The instructions of the Dockerfile (continuation lines joined, comments dropped).
fn instructions() -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in DOCKERFILE.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    out
}

/// The instructions of the last stage.
fn runtime_stage() -> Vec<String> {
    let all = instructions();
    let start = all
        .iter()
        .rposition(|i| i.starts_with("FROM "))
        .expect("a FROM");
    all[start..].to_vec()
}

#[test]
fn it_is_a_multi_stage_build() {
    let stages: Vec<String> = instructions()
        .into_iter()
        .filter(|i| i.starts_with("FROM "))
        .collect();
    assert!(stages.len() >= 2, "{stages:?}");
    assert!(stages[0].contains(" AS build"), "{stages:?}");
    let runtime = runtime_stage();
    assert!(
        !runtime[0].contains("rust:"),
        "the runtime stage must not be the toolchain image: {}",
        runtime[0]
    );
    assert!(
        runtime
            .iter()
            .any(|i| i.starts_with("COPY --from=build ") && i.contains("vault-server")),
        "the runtime stage copies the built binary from the build stage"
    );
    let build = instructions().join("\n");
    assert!(
        build.contains("cargo build --release --locked"),
        "pinned dependencies"
    );
}

#[test]
fn the_runtime_stage_runs_as_a_non_root_user() {
    let runtime = runtime_stage();
    let user = runtime
        .iter()
        .rev()
        .find_map(|i| i.strip_prefix("USER "))
        .expect("the runtime stage sets USER");
    let name = user.split(':').next().unwrap_or_default().trim();
    assert!(
        !name.is_empty() && name != "root" && name != "0",
        "USER {user} is root"
    );
    // Nothing after USER switches back.
    let after_user = runtime
        .iter()
        .skip_while(|i| !i.starts_with("USER "))
        .skip(1);
    for instruction in after_user {
        assert!(!instruction.starts_with("USER "), "{instruction}");
        assert!(
            !instruction.starts_with("RUN "),
            "RUN after USER: {instruction}"
        );
    }
}

#[test]
fn the_image_holds_no_secret_and_refuses_to_start_without_a_key() {
    let all = instructions().join("\n");
    for secret in [
        "ENCRYPTION_KEY=",
        "ENCRYPTION_KEYS_PREVIOUS=",
        "IDP_HS256_SECRETS=",
    ] {
        assert!(!all.contains(secret), "the image sets {secret}");
    }
    assert!(
        all.contains("VAULT_DEV_MODE=false"),
        "no development key in production"
    );
    let runtime = runtime_stage().join("\n");
    assert!(runtime.contains("ENTRYPOINT [\"vault-server\"]"));
    assert!(runtime.contains("EXPOSE 8080"));
    assert!(
        runtime.contains("ca-certificates"),
        "upstream TLS needs the roots"
    );
}

/// The proxy's memory bound is measured (tests/e2e/attacks/proxy.rs) with large buffers
/// unmapped when freed; the image must run the server the same way.
#[test]
fn the_image_gives_large_buffers_back_to_the_system() {
    let runtime = runtime_stage().join("\n");
    assert!(
        runtime.contains("GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576"),
        "the runtime stage sets the allocator's mmap threshold"
    );
}

#[test]
fn the_build_context_leaves_out_local_state() {
    let ignored: Vec<&str> = DOCKERIGNORE.lines().map(str::trim).collect();
    for entry in ["target", "data", ".git", "*.db"] {
        assert!(ignored.contains(&entry), "{entry} is not in .dockerignore");
    }
}
