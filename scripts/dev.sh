#!/usr/bin/env bash
# Developer commands for the trust index. The Makefile calls this script, so `make <cmd>` and
# `bash scripts/dev.sh <cmd>` behave identically; this one also works where make is not installed.
# Assumes only python3 (3.11+) and pip; everything else is installed into .venv from a lock file:
# requirements.lock (DuckDB) for setup, demo, ui, trust and bench; requirements-bigquery.lock (the same pins plus the
# `bigquery` extra: dagster-gcp, dbt-bigquery, the Google client libraries) for test and test-fast, so the suite
# also loads the BigQuery target, and for every command when TRUST_TARGET=bigquery.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
UV="$VENV/bin/uv"
UV_VERSION="0.13.9"  # the uv that compiled the lock files; pinned so every machine resolves alike
LOCK="requirements.lock"
BIGQUERY_LOCK="requirements-bigquery.lock"
# duckdb or bigquery: which lock this command needs (test and test-fast raise it to bigquery).
STACK="duckdb"
[[ "${TRUST_TARGET:-duckdb}" == "bigquery" ]] && STACK="bigquery"
STAMP="$VENV/.trust-setup-stamp"
MANIFEST="$ROOT/dbt_project/target/manifest.json"

usage() {
    cat <<'EOF'
usage: bash scripts/dev.sh <command> [args]

  setup      create .venv, install requirements.lock and the project (editable), prepare the dbt manifest
             (requirements-bigquery.lock instead when TRUST_TARGET=bigquery)
  demo       setup, then generate the synthetic telco and materialise the whole graph (trust demo)
  test       setup with requirements-bigquery.lock, install chromium if missing, run the test suite (extra args
             go to pytest)
  test-fast  the same setup, then the inner loop: the suite without the browser tests and the slow multi-run ones
  ui         setup, then the Dagster UI (dagster dev) on http://127.0.0.1:3000 (PORT=... to change)
  trust      setup, then the `trust` command line with the given arguments (`trust --help` lists them)
  lint       ruff check (the rules in pyproject.toml)
  bench      run every benchmarks/*.py; `bench NAME [args]` runs benchmarks/NAME.py only
             (e.g. `bench daily_partition --customers 20000`, see docs/performance.md)
  dbt-docs   build the dbt docs site (dbt docs generate) over the demo warehouse
  chromium   install Debian's chromium for the browser tests (needs root or sudo)
  lock       recompile requirements-bigquery.lock and requirements.lock from pyproject.toml (after changing
             dependencies)
  clean      remove caches, build and test artifacts, the dbt target
  distclean  clean, and also remove .venv, the demo warehouse (data/) and the local Dagster instance state
EOF
}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

check_python() {
    command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found: install Python 3.11 or newer"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$("$PYTHON" --version 2>&1) is too old: the project needs Python 3.11+ (set PYTHON=python3.11)"
}

# Everything that decides what gets installed: a change to any of it re-runs the install.
setup_key() {
    "$PY" - "$UV_VERSION" <<'EOF'
import hashlib, sys
h = hashlib.sha256(sys.argv[1].encode() + sys.version.encode())
for name in ("requirements.lock", "requirements-bigquery.lock", "pyproject.toml"):
    h.update(open(name, "rb").read())
print(h.hexdigest())
EOF
}

# The Python environment only (no dbt): what lint and lock need. The stamp records what was installed for which
# inputs; an environment installed from requirements-bigquery.lock also serves the DuckDB commands.
ensure_venv() {
    if [[ ! -x "$PY" ]]; then
        check_python
        log "creating $VENV"
        "$PYTHON" -m venv "$VENV" \
            || die "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
    fi
    local key
    key="$(setup_key)"
    if [[ -f "$STAMP" ]] && [[ "$(<"$STAMP")" == "$key bigquery" || "$(<"$STAMP")" == "$key $STACK" ]]; then
        return 0
    fi
    local lock="$LOCK"
    [[ "$STACK" == "bigquery" ]] && lock="$BIGQUERY_LOCK"
    local started=$SECONDS
    if [[ "$("$UV" --version 2>/dev/null)" != "uv $UV_VERSION"* ]]; then
        log "installing uv $UV_VERSION"
        "$PY" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
    fi
    log "installing the pinned dependencies from $lock"
    # Exactly the locked versions, and the project itself without re-resolving anything.
    "$UV" pip install --quiet --python "$PY" -r "$lock"
    "$UV" pip install --quiet --python "$PY" --no-deps -e .
    echo "$key $STACK" >"$STAMP"
    rm -f "$MANIFEST"  # new dbt or project code: parse again
    log "environment ready in $((SECONDS - started)) s"
}

# The dbt manifest must exist before the code location imports (CLI, tests, UI); rebuild it only when a
# dbt_project file is newer than it.
prepare_dbt() {
    if [[ -f "$MANIFEST" ]] && [[ -z "$(find dbt_project \( -path dbt_project/target -o -path dbt_project/logs \
        -o -path dbt_project/dbt_packages \) -prune -o -type f -newer "$MANIFEST" -print -quit)" ]]; then
        return 0
    fi
    log "preparing the dbt manifest"
    "$PY" -m trust_assets.dbt_project prepare
}

record_evidence() {
    # The readiness gate reads what the repository holds (feature tests and their last results, the runbook)
    # from this artefact, never from the source tree when a model is promoted (repository_evidence.py).
    local junit=()
    [[ -f artifacts/junit.xml ]] && junit=(--junit artifacts/junit.xml)
    # Always the checkout's artefact: a command run with $TRUST_REPOSITORY_EVIDENCE set (the test session points it at
    # its fixture) must not overwrite the file the gate is pointed at.
    "$PY" -m trust_assets.operations.repository_evidence record --out "$ROOT/artifacts/repository_evidence.json" \
        "${junit[@]}" >/dev/null
}

cmd_setup() {
    ensure_venv
    prepare_dbt
    record_evidence
}

use_local_instance() {
    # The CLI and the UI share this instance, so the demo's runs show up in the UI.
    export DAGSTER_HOME="${DAGSTER_HOME:-$ROOT/dagster_home}"
    mkdir -p "$DAGSTER_HOME"
}

cmd_demo() {
    cmd_setup
    use_local_instance
    exec "$VENV/bin/trust" demo "$@"
}

cmd_trust() {
    cmd_setup
    use_local_instance
    exec "$VENV/bin/trust" "$@"
}

cmd_chromium() {
    bash "$ROOT/scripts/install_chromium.sh"
}

cmd_test() {
    STACK="bigquery"  # the suite also loads the BigQuery target (tests/bigquery)
    cmd_setup
    cmd_chromium
    mkdir -p artifacts
    # -ra: one line per skip/xfail/failure at the end; the durations show where the minutes go;
    # junit.xml and the screenshots under artifacts/ are kept by CI.
    local status=0
    "$VENV/bin/pytest" -q -ra --durations=10 --junitxml=artifacts/junit.xml "$@" || status=$?
    record_evidence  # the results of this run, for the readiness gate
    return "$status"
}

cmd_test_fast() {
    STACK="bigquery"
    cmd_setup
    # No Chromium, no webserver, no daemon backfills: what a change to the models, checks or scoring needs first.
    # Still builds the one shared test warehouse (about 4 minutes); `test` remains the whole suite.
    exec "$VENV/bin/pytest" -q -ra -m "not browser and not slow" "$@"
}

cmd_ui() {
    cmd_setup
    use_local_instance
    # exec: Ctrl-C goes straight to dagster dev, which then stops its webserver, daemon and code server.
    exec "$VENV/bin/dagster" dev -w workspace.yaml -h 127.0.0.1 -p "${PORT:-3000}"
}

cmd_lint() {
    ensure_venv
    "$VENV/bin/ruff" check .
}

cmd_bench() {
    # requirements-bigquery.lock: the byte benchmark parses the project for the bigquery target (offline, no
    # credentials). The target stays DuckDB.
    STACK="bigquery"
    cmd_setup
    shopt -s nullglob
    local benches=(benchmarks/*.py)
    if [[ ${#benches[@]} -eq 0 ]]; then
        log "no benchmarks/*.py yet"
        return 0
    fi
    # `bench NAME [args]`: one benchmark with its own arguments (each benchmark takes different ones).
    if [[ $# -gt 0 && -f "benchmarks/$1.py" ]]; then
        benches=("benchmarks/$1.py")
        shift
    fi
    local bench
    for bench in "${benches[@]}"; do
        log "$bench"
        "$PY" "$bench" "$@"
    done
}

cmd_dbt_docs() {
    cmd_setup
    local warehouse="${TRUST_DUCKDB_PATH:-$ROOT/data/warehouse.duckdb}"
    # docs generate reads column types from the warehouse; an empty new file would document nothing.
    [[ -f "$warehouse" ]] || die "$warehouse does not exist yet: run \`bash scripts/dev.sh demo\` first"
    export TRUST_DUCKDB_PATH="$warehouse"
    (cd dbt_project && "$VENV/bin/dbt" docs generate --profiles-dir . --project-dir .)
    log "dbt docs: dbt_project/target/index.html (serve: cd dbt_project && $VENV/bin/dbt docs serve --profiles-dir .)"
}

cmd_lock() {
    ensure_venv
    # The whole set first; the DuckDB lock is then held to its versions, so both environments run the same pins.
    "$UV" pip compile pyproject.toml --extra dev --extra bigquery --python-version 3.11 -o "$BIGQUERY_LOCK"
    "$UV" pip compile pyproject.toml --extra dev --python-version 3.11 -c "$BIGQUERY_LOCK" -o "$LOCK"
}

cmd_clean() {
    rm -rf artifacts .pytest_cache .ruff_cache build logs dbt_project/target dbt_project/logs \
        dbt_project/dbt_packages ./*.egg-info
    find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
}

cmd_distclean() {
    cmd_clean
    rm -rf "$VENV" data
    # Keep the committed instance settings; drop the runs and event logs of the local instance.
    find dagster_home -mindepth 1 -maxdepth 1 ! -name dagster.yaml -exec rm -rf {} + 2>/dev/null || true
}

main() {
    local cmd="${1:-help}"
    shift || true
    case "$cmd" in
        setup) cmd_setup ;;
        demo) cmd_demo "$@" ;;
        test) cmd_test "$@" ;;
        test-fast) cmd_test_fast "$@" ;;
        ui) cmd_ui ;;
        trust) cmd_trust "$@" ;;
        lint) cmd_lint ;;
        bench) cmd_bench "$@" ;;
        dbt-docs) cmd_dbt_docs ;;
        chromium) cmd_chromium ;;
        lock) cmd_lock ;;
        clean) cmd_clean ;;
        distclean) cmd_distclean ;;
        help | -h | --help) usage ;;
        *) usage >&2; die "unknown command: $cmd" ;;
    esac
}

main "$@"
