#!/usr/bin/env bash
# The package as a TypeScript user's compiler sees it: installs the packed package (TARBALL, or one packed here from
# a fresh build of dist/) into an empty project, adds test/consumer/consumer.ts and examples/library.ts, and runs
# `tsc --noEmit` on them with Node16 module resolution (package.json "exports") and with the older node10 one
# ("typesVersions"). Only declarations are checked, so the install runs no scripts (no addon build).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=${1:-}
if [ -z "$tarball" ]; then
  (cd "$repo" && npm run --silent build:ts && npm pack --ignore-scripts --pack-destination "$work" >"$work/pack.log" 2>&1) || { cat "$work/pack.log"; exit 1; }
  tarball=$(ls "$work"/iscsi-mpio-*.tgz)
fi
mkdir "$work/consumer" && cd "$work/consumer"
npm init -y >/dev/null
npm install --ignore-scripts --prefer-offline --no-audit --no-fund "$tarball" >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
cp "$repo"/test/consumer/consumer.ts "$repo"/test/consumer/tsconfig*.json "$repo"/examples/library.ts .
# The compiler and Node's types come from the repository's devDependencies (same versions, no second download).
mkdir -p node_modules/@types && ln -s "$repo/node_modules/@types/node" node_modules/@types/node
for config in tsconfig.json tsconfig.node10.json; do
  "$repo/node_modules/.bin/tsc" -p "$config" || { echo "consumer: FAIL: tsc -p $config"; exit 1; }
done
echo "consumer: consumer.ts and examples/library.ts type-check against the packed package (node16 and node10 resolution)"
