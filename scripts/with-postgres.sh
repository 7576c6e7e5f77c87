#!/usr/bin/env bash
# with-postgres.sh CMD [ARG...]
#
# Runs CMD with SLOTWIRE_TEST_POSTGRES set to the URL of a PostgreSQL
# server, e.g.
#
#   bash scripts/with-postgres.sh go test -race ./postgres/
#
# When SLOTWIRE_TEST_POSTGRES is already set, CMD just runs against that
# server. Otherwise the script starts a throwaway cluster (trust auth,
# 127.0.0.1 only, fsync off) in a temporary directory, runs CMD, then stops
# the cluster and deletes the directory, whatever happens. When no server
# binaries are found under /usr/lib/postgresql/*/bin, PostgreSQL is first
# installed with apt-get (Debian/Ubuntu; needs root or sudo).
#
# The cluster listens on 127.0.0.1:54329, or the next free port
# (SLOTWIRE_TEST_POSTGRES_PORT changes the first one tried). The exit
# status is CMD's.
set -euo pipefail

if [ "$#" -eq 0 ]; then
	echo "usage: $0 CMD [ARG...]" >&2
	exit 2
fi

if [ -n "${SLOTWIRE_TEST_POSTGRES:-}" ]; then
	exec "$@"
fi

log() { echo "with-postgres: $*" >&2; }

# find_bindir prints the newest /usr/lib/postgresql/VERSION/bin with a
# server in it, or nothing.
find_bindir() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
			echo "$d"
		fi
	done | sort -V | tail -n 1
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		log "need root to run: $*"
		return 1
	fi
}

bindir="$(find_bindir)"
if [ -z "$bindir" ]; then
	if ! command -v apt-get >/dev/null 2>&1; then
		log "no PostgreSQL server under /usr/lib/postgresql and no apt-get to install one"
		exit 1
	fi
	log "installing PostgreSQL with apt-get"
	aptlog="$(mktemp)"
	if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql; } >"$aptlog" 2>&1; then
		cat "$aptlog" >&2
		rm -f "$aptlog"
		log "apt-get install postgresql failed"
		exit 1
	fi
	rm -f "$aptlog"
	bindir="$(find_bindir)"
	if [ -z "$bindir" ]; then
		log "postgresql is installed but no server is under /usr/lib/postgresql/*/bin"
		exit 1
	fi
fi

# PostgreSQL refuses to run as root: as root, run the cluster as the
# postgres user (created by the package; created here if missing).
pg_user=""
if [ "$(id -u)" -eq 0 ]; then
	pg_user=postgres
	if ! id -u "$pg_user" >/dev/null 2>&1; then
		useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/sh "$pg_user"
	fi
fi
run_pg() {
	if [ -z "$pg_user" ]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u "$pg_user" -- "$@"
	else
		su "$pg_user" -s /bin/sh -c "$(printf '%q ' "$@")"
	fi
}

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

dir="$(mktemp -d /tmp/slotwire-pg.XXXXXX)"
data="$dir/data"
started=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$started" ]; then
		(cd "$dir" && run_pg "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1) || true
	fi
	rm -rf "$dir"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ -n "$pg_user" ]; then
	chown "$pg_user": "$dir"
fi
chmod 700 "$dir"

# Run the server tools from the cluster directory: the postgres user may
# not be allowed into the caller's working directory.
if ! (cd "$dir" && run_pg "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale --no-sync) >"$dir/initdb.log" 2>&1; then
	cat "$dir/initdb.log" >&2
	log "initdb failed"
	exit 1
fi
cat >>"$data/postgresql.conf" <<EOF

# with-postgres.sh: a throwaway test cluster.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

# Start on the first free port; retry on the next one should another
# process take it first.
port="${SLOTWIRE_TEST_POSTGRES_PORT:-54329}"
started=1 # from now on cleanup stops whatever may be running
for try in $(seq 1 20); do
	while port_in_use "$port"; do
		port=$((port + 1))
	done
	if (cd "$dir" && run_pg "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -o "-p $port" -w -t 60 start) >/dev/null 2>&1; then
		break
	fi
	if [ "$try" -eq 20 ]; then
		cat "$dir/server.log" >&2 || true
		log "could not start PostgreSQL"
		exit 1
	fi
	port=$((port + 1))
done

export SLOTWIRE_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') at $SLOTWIRE_TEST_POSTGRES"

set +e
"$@"
status=$?
set -e
exit "$status"
