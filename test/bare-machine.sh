#!/usr/bin/env bash
# Runs the suite as a bare machine would: none of the peers on PATH (tgt, istgt, libiscsi-bin, iproute2, ethtool,
# nftables, iperf3, python3, libnbd-bin, qemu-utils, fio, curl) and not root. Every test that needs one of them must
# skip with one line naming what to install, and the rest must pass: this is what `npm test` promises on a fresh
# checkout. Needs root to drop to `nobody`.
# Usage: npm run test:bare [-- test/some.test.ts ...]   (default: the whole suite)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/iscsi-mpio-bare.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# A PATH of links to everything in /usr/bin and /usr/sbin but the peers.
hidden='^(tgtd|tgtadm|tgt-admin|tgt-setup-lun|tgtimg|istgt|istgtcontrol|iscsi-.*|ethtool|ss|nft|iperf3|ip|tc|python3.*|bridge|devlink|nbd.*|qemu-.*|fio|curl)$'
mkdir "$work/bin"
for dir in /usr/sbin /usr/bin; do
  for tool in "$dir"/*; do
    name="$(basename "$tool")"
    [[ "$name" =~ $hidden ]] && continue
    [ -e "$work/bin/$name" ] || ln -s "$tool" "$work/bin/$name"
  done
done

# A copy of the tree `nobody` can read (and write: tsx and mocha keep caches beside it).
mkdir "$work/tree"
tar -C "$root" --exclude=./.git --exclude='./build-*' -cf - . | tar -C "$work/tree" -xf -
chown -R 65534:65534 "$work"

[ $# -gt 0 ] || set -- 'test/**/*.test.ts'
cd "$work/tree"
# CI=true turns every skip into a failure, so a bare run clears it; HOME and TMPDIR are nobody's own.
setpriv --reuid=65534 --regid=65534 --clear-groups \
  env -i PATH="$work/bin" HOME="$work" TMPDIR="$work" LANG=C.UTF-8 \
  node node_modules/.bin/mocha "$@"
