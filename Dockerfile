# Multi-stage build: compile in the Rust image, run from a small non-root image.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY migrations ./migrations
COPY templates ./templates
COPY assets ./assets
RUN cargo build --release --locked --bin authd

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/authd --create-home authd \
    && mkdir /keys && chown authd:authd /keys
COPY --from=build /src/target/release/authd /usr/local/bin/authd
USER authd
WORKDIR /var/lib/authd
ENV AUTH_LISTEN=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s CMD ["/usr/local/bin/authd", "health"]
ENTRYPOINT ["/usr/local/bin/authd"]
CMD ["serve"]
