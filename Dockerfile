# syntax=docker/dockerfile:1
# The vault server (and the `vault` client) in a small image that runs as a non-root user.
#
#   docker build -t vault .
#   docker run -p 8080:8080 -v vault-data:/data \
#     -e ENCRYPTION_KEY="$(docker run --rm vault keys generate)" vault
#
# Keep ENCRYPTION_KEY in your secret store, not in the image or a compose file.

# ---- build: the toolchain and the sources; nothing of it reaches the runtime image ----
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The lock file pins every dependency; the caches only speed up rebuilds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p vault-server -p vault-cli \
    && install -m 0755 target/release/vault-server target/release/vault /usr/local/bin/

# ---- runtime: the two binaries, CA certificates (the proxy verifies upstream TLS with the
# platform's roots) and an unprivileged user ----
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 vault \
    && useradd --system --uid 10001 --gid vault --home-dir /data --shell /usr/sbin/nologin vault \
    && mkdir -p /data && chown vault:vault /data && chmod 0700 /data
COPY --from=build /usr/local/bin/vault-server /usr/local/bin/vault /usr/local/bin/
USER 10001:10001
WORKDIR /data
# Production defaults: listen on all interfaces inside the container, keep the SQLite file
# on the volume, refuse to start without ENCRYPTION_KEY (no development key), JSON logs.
# glibc: buffers of 1 MiB and more (proxied bodies) go back to the system when freed, so a
# burst of large proxied calls does not stay resident (tests/e2e/attacks/proxy.rs measures it).
ENV VAULT_BIND=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///data/vault.db \
    VAULT_DEV_MODE=false \
    VAULT_LOG_FORMAT=json \
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576
VOLUME ["/data"]
EXPOSE 8080
# Orchestrators probe GET /healthz (liveness) and GET /readyz (readiness) over HTTP.
ENTRYPOINT ["vault-server"]
CMD ["serve"]
