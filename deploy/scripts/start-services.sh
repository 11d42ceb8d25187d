#!/usr/bin/env bash
# Start the local PostgreSQL and Redis when they are not already running (installing the Debian
# packages first when they are missing and this runs as root), and make sure the
# PostgreSQL role the production-like configuration uses can log in and create databases
# (pytest-django creates its test database). Used by `make test-services` and .ci/run.
#
#   PG_HOST / PG_PORT / PG_USER / PG_DB   default 127.0.0.1 / 5432 / postgres / outcry
#   REDIS_HOST / REDIS_PORT               default 127.0.0.1 / 6379
set -euo pipefail

PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_USER="${PG_USER:-postgres}"
PG_DB="${PG_DB:-outcry}"
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${REDIS_PORT:-6379}"
WAIT_S="${SERVICES_WAIT_S:-60}"

log() { echo "start-services: $*"; }

wait_for() {  # wait_for DESCRIPTION COMMAND...
    local what="$1"
    shift
    local deadline=$((SECONDS + WAIT_S))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            log "$what did not come up within ${WAIT_S}s" >&2
            return 1
        fi
        sleep 1
    done
}

as_postgres() {  # run a command as the postgres OS user (peer authentication on the socket)
    if [[ "$(id -un)" == postgres ]]; then
        "$@"
    elif [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        sudo -n -u postgres "$@"
    fi
}

install_packages() {  # install Debian packages when root; otherwise say what is missing
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        log "installing $*"
        apt-get install -y -q -o DPkg::Lock::Timeout=300 "$@" >/dev/null \
            || { apt-get update -q -o DPkg::Lock::Timeout=300 >/dev/null \
                 && apt-get install -y -q -o DPkg::Lock::Timeout=300 "$@" >/dev/null; }
    else
        log "missing: $* (install them, or run as root to have them installed)" >&2
        return 1
    fi
}

# --- PostgreSQL -------------------------------------------------------------------------------
if ! command -v pg_isready >/dev/null; then
    install_packages postgresql postgresql-client
fi
if pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
    log "PostgreSQL already running on $PG_HOST:$PG_PORT"
else
    command -v pg_ctlcluster >/dev/null || install_packages postgresql
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    log "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_for "PostgreSQL" pg_isready -q -h "$PG_HOST" -p "$PG_PORT"
fi

psql_tcp() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
if ! psql_tcp -c "SELECT 1" >/dev/null 2>&1; then
    # A fresh cluster only lets the postgres OS user in over the socket: give the role a
    # password (used through PGPASSWORD, default "postgres") so TCP logins work.
    log "role $PG_USER cannot log in over TCP; setting its password from PGPASSWORD"
    as_postgres psql -v ON_ERROR_STOP=1 -qAt -c \
        "DO \$\$ BEGIN
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
             CREATE ROLE \"$PG_USER\" LOGIN;
           END IF;
         END \$\$;
         ALTER ROLE \"$PG_USER\" WITH LOGIN CREATEDB PASSWORD '${PGPASSWORD:-postgres}';"
    export PGPASSWORD="${PGPASSWORD:-postgres}"
    psql_tcp -c "SELECT 1" >/dev/null
fi
if [[ "$(psql_tcp -c "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")" != t ]]; then
    log "granting CREATEDB to $PG_USER"
    as_postgres psql -v ON_ERROR_STOP=1 -qAt -c "ALTER ROLE \"$PG_USER\" CREATEDB"
fi
if [[ -z "$(psql_tcp -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]]; then
    log "creating database $PG_DB"
    psql_tcp -c "CREATE DATABASE \"$PG_DB\""
fi
log "PostgreSQL ready: role $PG_USER (CREATEDB), database $PG_DB"

# --- Redis ------------------------------------------------------------------------------------
if redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    log "Redis already running on $REDIS_HOST:$REDIS_PORT"
else
    command -v redis-server >/dev/null || install_packages redis-server
    log "starting Redis on $REDIS_HOST:$REDIS_PORT"
    redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no
    wait_for "Redis" redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping
fi
log "Redis ready"
