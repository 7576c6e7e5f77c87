# Slotwire's container image: docs/deployment.md explains it;
# cmd/slotwire/deploy_test.go checks its serve flags and ports.
#
#   docker build -t slotwire .
#   docker run -d --name slotwire -p 8080:8080 -v slotwire-data:/var/lib/slotwire \
#     -e SLOTWIRE_ADMIN_TOKEN=… -e SLOTWIRE_NODE_ID=slotwire-1 slotwire

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The SQLite driver is pure Go (modernc.org/sqlite): no cgo, a static binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/slotwire ./cmd/slotwire

FROM debian:bookworm-slim
# ca-certificates for HTTPS webhooks and SMTP over TLS, sqlite3 for online
# backups (docker exec slotwire sqlite3 …). The health check is the binary's
# own (slotwire healthcheck): no curl, no shell needed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates sqlite3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 slotwire \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/slotwire --no-create-home --shell /usr/sbin/nologin slotwire \
 && install -d -m 0700 -o 10001 -g 10001 /var/lib/slotwire
COPY --from=build /out/slotwire /usr/local/bin/slotwire
USER 10001:10001
WORKDIR /var/lib/slotwire
# The SQLite file, its -wal and -shm, and slotwire.key (the key of stored
# secrets, made on first start unless SLOTWIRE_SECRET_KEY is given).
VOLUME /var/lib/slotwire
EXPOSE 8080
# Its --timeout is shorter than Docker's, so the reason (docker inspect) is
# its own message rather than a kill.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/slotwire", "healthcheck", "--url", "http://127.0.0.1:8080", "--timeout", "2s"]
# serve stops cleanly on SIGTERM (docker stop: give it --time 40).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/slotwire"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--db", "/var/lib/slotwire/slotwire.db", "--log-format", "json"]
