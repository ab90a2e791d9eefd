# syntax=docker/dockerfile:1
# The dssc-doctor image: the binary built from this repository on a minimal base.
#
#   docker build -t dssc-doctor:0.1.0 .
#   docker run --rm dssc-doctor:0.1.0 --help
#
# deploy/cronjob.yaml and deploy/exporter.yaml run it in the cluster.

# The toolchain must be at least the newest rust-version among the locked crates.
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
# What `cargo build` reads: the manifest and lock file, the build script and the
# catalogue it embeds, the sources, and the bench targets Cargo.toml declares.
COPY Cargo.toml Cargo.lock build.rs ./
COPY checks ./checks
COPY src ./src
COPY benches ./benches
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin kubectl-dssc_doctor \
    && install -D -m 0755 target/release/kubectl-dssc_doctor /out/kubectl-dssc_doctor

# glibc, libgcc, OpenSSL 3 and CA certificates of the same Debian release as the builder,
# no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=builder /out/kubectl-dssc_doctor /usr/local/bin/kubectl-dssc_doctor
USER 65532:65532
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/kubectl-dssc_doctor"]
