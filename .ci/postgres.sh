#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the test suite (CI and developers alike).
#
#   eval "$(.ci/postgres.sh start)"   # prints only `export DETLAB_TEST_DB_URL=...` on stdout
#   .ci/postgres.sh status            # exit 0 when the cluster is up, prints the URL
#   .ci/postgres.sh stop              # stops the cluster and removes its directory
#
# start: installs Debian's `postgresql` when no server binaries are found (root only,
# or passwordless sudo), runs the server as an unprivileged user (`detlab-ci`, created
# when running as root; the current user otherwise), trust auth, listening on 127.0.0.1
# only, on a free port from 55432 up, socket inside its own directory, and creates the
# database `detlab_test`. Rerunning start while the cluster is up reuses it (no initdb).
# Debian's own default cluster is never used (and, if our install started it, stopped).
#
# Everything but the export lines goes to stderr. Any failure exits non-zero.
#
# Environment knobs (all optional):
#   DETLAB_PG_DIR     cluster directory (default: /tmp/detlab-pg-<uid>-<hash of repo path>)
#   DETLAB_PG_BINDIR  directory holding initdb/pg_ctl/postgres
#   DETLAB_PG_USER    OS user running the server when invoked as root (default detlab-ci)
#   DETLAB_PG_PORT    first port to try (default 55432)
set -euo pipefail

# Only the export lines go to the real stdout (fd 3); everything else to stderr.
exec 3>&1 1>&2

readonly DB_NAME=detlab_test
readonly DB_ROLE=detlab
readonly RUN_USER_ROOT="${DETLAB_PG_USER:-detlab-ci}"
readonly FIRST_PORT="${DETLAB_PG_PORT:-55432}"
readonly PORT_TRIES=50

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
repo_key="$(printf '%s' "$repo_root" | cksum | cut -d' ' -f1)"
if [[ -n "${DETLAB_PG_DIR:-}" ]]; then
    PG_DIR="$DETLAB_PG_DIR"
elif [[ $EUID -eq 0 ]]; then
    # /tmp, not $TMPDIR: the unprivileged server user must be able to reach it.
    PG_DIR="/tmp/detlab-pg-0-$repo_key"
else
    PG_DIR="${TMPDIR:-/tmp}/detlab-pg-$EUID-$repo_key"
fi
PG_DIR="${PG_DIR%/}"
DATA="$PG_DIR/data"
SOCK="$PG_DIR/sock"
LOGFILE="$PG_DIR/server.log"
PORTFILE="$PG_DIR/port"

find_bindir() {
    local d
    if [[ -n "${DETLAB_PG_BINDIR:-}" ]]; then
        [[ -x "$DETLAB_PG_BINDIR/pg_ctl" && -x "$DETLAB_PG_BINDIR/initdb" ]] || return 1
        printf '%s\n' "$DETLAB_PG_BINDIR"
        return 0
    fi
    # Newest Debian major first.
    while IFS= read -r d; do
        if [[ -x "$d/pg_ctl" && -x "$d/initdb" && -x "$d/postgres" && -x "$d/pg_isready" ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -rV)
    return 1
}

as_root_cmd() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        return 1
    fi
}

install_postgres() {
    log "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: installing Debian's postgresql"
    local t0=$SECONDS
    as_root_cmd true ||
        die "PostgreSQL is not installed and this user ($(id -un)) is neither root nor has passwordless sudo: run 'apt-get install postgresql' as root"
    as_root_cmd apt-get update -qq ||
        die "apt-get update failed"
    as_root_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 ||
        die "apt-get install postgresql failed"
    log "installed postgresql in $((SECONDS - t0)) s"
    # The package may have created and started its default cluster (5432): it is not ours
    # and must not matter, so stop it; it stays installed, just down.
    if command -v pg_lsclusters >/dev/null; then
        local ver name port status rest
        while read -r ver name port status rest; do
            if [[ "$status" == online* ]]; then
                log "stopping Debian's default cluster $ver/$name (port $port), started by the install"
                as_root_cmd pg_ctlcluster "$ver" "$name" stop || log "could not stop $ver/$name (ignored)"
            fi
        done < <(pg_lsclusters -h 2>/dev/null || true)
    fi
}

# Run a command as the OS user that owns the cluster. Fds 3 (our real stdout) and 9
# (the lock) are closed for it: a postmaster inheriting them would keep
# `$(postgres.sh start)` waiting for EOF forever and hold the lock for its lifetime.
RUN_AS=""
run_pg() {
    if [[ -n "$RUN_AS" ]]; then
        (cd / && runuser -u "$RUN_AS" -- "$@") 3>&- 9>&-
    else
        "$@" 3>&- 9>&-
    fi
}

ensure_run_user() {
    if [[ $EUID -ne 0 ]]; then
        RUN_AS=""
        return
    fi
    RUN_AS="$RUN_USER_ROOT"
    if ! id -u "$RUN_AS" >/dev/null 2>&1; then
        log "creating unprivileged system user $RUN_AS"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$RUN_AS" ||
            die "could not create user $RUN_AS"
    fi
    [[ "$(id -u "$RUN_AS")" -ne 0 ]] || die "$RUN_AS is uid 0: refusing"
}

port_is_free() {
    # Free when we can bind it ourselves (python3), else when nothing accepts on it.
    if ! command -v python3 >/dev/null; then
        if (exec 8<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 1
        fi
        return 0
    fi
    python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# As the postmaster does: TIME_WAIT leftovers do not make a port busy, a listener does.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}

is_up() {
    # Cluster directory ours, server running, and accepting connections.
    [[ -f "$PORTFILE" && -f "$DATA/postmaster.pid" ]] || return 1
    local port
    port="$(cat "$PORTFILE")"
    run_pg "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1 || return 1
    "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U "$DB_ROLE"
}

url() {
    printf 'postgresql+psycopg://%s@127.0.0.1:%s/%s' "$DB_ROLE" "$(cat "$PORTFILE")" "$DB_NAME"
}

show_log_tail() {
    if [[ -f "$LOGFILE" ]]; then
        log "last lines of $LOGFILE:"
        tail -n 30 "$LOGFILE" >&2 || true
    fi
}

init_cluster() {
    rm -rf "$PG_DIR"
    mkdir -p "$PG_DIR"
    chmod 700 "$PG_DIR"
    if [[ -n "$RUN_AS" ]]; then
        chown "$RUN_AS:" "$PG_DIR"
    fi
    run_pg mkdir -m 700 "$SOCK"
    log "initdb in $DATA"
    # --no-sync / fsync=off: a throwaway test cluster, speed over durability.
    if ! run_pg "$BINDIR/initdb" -D "$DATA" -U "$DB_ROLE" -A trust -E UTF8 \
        --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1; then
        cat "$PG_DIR/initdb.log" >&2 || true
        die "initdb failed"
    fi
    # Loopback TCP and the private socket only; trust for both (initdb -A trust wrote
    # local + 127.0.0.1/32 + ::1/128 lines in pg_hba.conf).
    run_pg tee -a "$DATA/postgresql.conf" >/dev/null <<EOF

# --- detlab throwaway test cluster (.ci/postgres.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCK'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
logging_collector = off
EOF
}

start_server() {
    local port tries=0 candidate=$FIRST_PORT
    while ((tries < PORT_TRIES)); do
        tries=$((tries + 1))
        port=$candidate
        candidate=$((candidate + 1))
        port_is_free "$port" || continue
        log "starting server on 127.0.0.1:$port"
        run_pg tee "$PORTFILE" >/dev/null <<<"$port"
        if run_pg "$BINDIR/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 \
            -o "-p $port" start >/dev/null 2>&1; then
            return 0
        fi
        # Lost a race for the port? Try the next one; anything else is fatal.
        if grep -q 'could not bind\|Address already in use' "$LOGFILE" 2>/dev/null; then
            log "port $port taken meanwhile, trying the next one"
            run_pg "$BINDIR/pg_ctl" -D "$DATA" stop -m immediate >/dev/null 2>&1 || true
            continue
        fi
        show_log_tail
        die "pg_ctl start failed"
    done
    die "no free loopback port in $FIRST_PORT..$((FIRST_PORT + PORT_TRIES - 1))"
}

wait_ready() {
    local port i
    port="$(cat "$PORTFILE")"
    for ((i = 0; i < 60; i++)); do
        if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U "$DB_ROLE"; then
            return 0
        fi
        sleep 0.5
    done
    show_log_tail
    die "server not ready on 127.0.0.1:$port after 30 s"
}

ensure_database() {
    local port exists
    port="$(cat "$PORTFILE")"
    # Over TCP on purpose: checks the same path the test URL uses.
    exists="$("$BINDIR/psql" -X -q -A -t -h 127.0.0.1 -p "$port" -U "$DB_ROLE" -d postgres \
        -c "select 1 from pg_database where datname = '$DB_NAME'")" ||
        die "cannot query the server on 127.0.0.1:$port"
    if [[ "$exists" != 1 ]]; then
        "$BINDIR/createdb" -h 127.0.0.1 -p "$port" -U "$DB_ROLE" "$DB_NAME" ||
            die "createdb $DB_NAME failed"
        log "created database $DB_NAME"
    fi
}

lock() {
    # Serialize concurrent start/stop on the same cluster directory.
    exec 9>"$PG_DIR.lock"
    flock -w 120 9 || die "timed out waiting for the lock $PG_DIR.lock"
}

cmd_start() {
    local t0=$SECONDS
    if ! BINDIR="$(find_bindir)"; then
        install_postgres
        BINDIR="$(find_bindir)" || die "installed postgresql but found no server binaries under /usr/lib/postgresql/*/bin"
    fi
    ensure_run_user
    lock
    if is_up; then
        log "reusing the running cluster in $PG_DIR ($("$BINDIR/postgres" --version))"
    else
        if [[ -e "$PG_DIR" ]]; then
            log "stale cluster directory $PG_DIR: recreating it"
            stop_quietly
        fi
        log "using $("$BINDIR/postgres" --version) from $BINDIR, server user: ${RUN_AS:-$(id -un)}"
        init_cluster
        start_server
        wait_ready
    fi
    ensure_database
    log "ready in $((SECONDS - t0)) s: $(url)"
    printf "export DETLAB_TEST_DB_URL='%s'\n" "$(url)" >&3
}

stop_quietly() {
    if [[ -f "$DATA/postmaster.pid" ]]; then
        run_pg "$BINDIR/pg_ctl" -D "$DATA" stop -m fast -w -t 30 >/dev/null 2>&1 ||
            run_pg "$BINDIR/pg_ctl" -D "$DATA" stop -m immediate -w -t 30 >/dev/null 2>&1 ||
            true
    fi
    rm -rf "$PG_DIR"
}

cmd_stop() {
    if [[ ! -e "$PG_DIR" ]]; then
        log "nothing to stop ($PG_DIR does not exist)"
        rm -f "$PG_DIR.lock"
        return 0
    fi
    BINDIR="$(find_bindir)" || die "no PostgreSQL binaries found to stop $PG_DIR"
    # The server runs as the owner of its data directory; pg_ctl refuses root.
    if [[ $EUID -eq 0 && -d "$DATA" ]]; then
        RUN_AS="$(stat -c %U "$DATA")"
        [[ "$RUN_AS" != root ]] || RUN_AS=""
    fi
    lock
    if [[ -f "$DATA/postmaster.pid" ]] && run_pg "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        log "stopping the cluster in $PG_DIR"
        if ! run_pg "$BINDIR/pg_ctl" -D "$DATA" stop -m fast -w -t 30 >/dev/null; then
            run_pg "$BINDIR/pg_ctl" -D "$DATA" stop -m immediate -w -t 30 >/dev/null ||
                die "could not stop the server in $DATA"
        fi
    fi
    rm -rf "$PG_DIR"
    rm -f "$PG_DIR.lock"
    log "stopped and removed $PG_DIR"
}

cmd_status() {
    BINDIR="$(find_bindir)" || die "no PostgreSQL binaries found"
    if [[ $EUID -eq 0 && -d "$DATA" ]]; then
        RUN_AS="$(stat -c %U "$DATA")"
        [[ "$RUN_AS" != root ]] || RUN_AS=""
    fi
    if is_up; then
        log "up: $(url) (directory $PG_DIR)"
        return 0
    fi
    log "down (directory $PG_DIR)"
    return 1
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
    log "usage: $0 start|stop|status"
    exit 2
    ;;
esac
