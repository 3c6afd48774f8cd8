# Build and run clientele. Everything (SQLite, libpq, OpenSSL) is compiled in.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin clientele

FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/clientele clientele && mkdir -p /var/lib/clientele && chown clientele /var/lib/clientele
COPY --from=build /src/target/release/clientele /usr/local/bin/clientele
USER clientele
ENV CLIENTELE_BIND=0.0.0.0:8080 CLIENTELE_DATA_DIR=/var/lib/clientele CLIENTELE_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3"]
ENTRYPOINT ["clientele"]
CMD ["serve"]
