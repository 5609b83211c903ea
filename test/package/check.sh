#!/usr/bin/env bash
# Checks a project where `ipvs` is installed (install.sh leaves one), with the
# `node` first on PATH: import and require load the package and its addon
# (check.mjs), the commands answer, and the docs their help names are there.
#
#   test/package/check.sh [--addon SUFFIX] [--kernel] DIR
#     --addon SUFFIX  the addon loaded must be the file ending so
#                     (prebuilds/linux-arm64/ipvs.glibc.node, build/Release/ipvs.node)
#     --kernel        also use the kernel, from that install: the library and the
#                     `ipvs` command add, list and delete a service, each in a
#                     fresh network namespace (root and IPVS needed: the lab,
#                     scripts/vm-run -- test/package/check.sh --kernel DIR)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

args=() kernel=
while (($#)); do
  case $1 in
    --addon) args+=(--addon "$2"); shift 2 ;;
    --kernel) kernel=1; args+=(--kernel); shift ;;
    -*) echo "check.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
(($# == 1)) || { echo "usage: check.sh [--addon SUFFIX] [--kernel] DIR" >&2; exit 2; }
dir=$(cd "$1" && pwd)
[[ -d $dir/node_modules/ipvs ]] || { echo "check.sh: $dir has no node_modules/ipvs (test/package/install.sh makes one)" >&2; exit 2; }

fail() { echo "FAILED: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

echo "-- $dir, node $(node -p 'process.version + " " + process.arch')"
cp "$here/check.mjs" "$dir/check.mjs"
if [[ -n $kernel ]]; then
  # A fresh namespace, lo up: with it down the kernel refuses masquerading real servers (EINVAL).
  (cd "$dir" && unshare --net -- sh -c 'ip link set lo up && exec node check.mjs "$@"' sh "${args[@]}")
else
  (cd "$dir" && node check.mjs "${args[@]}")
fi

# The commands, found on PATH as an npm script or npx finds them.
export PATH=$dir/node_modules/.bin:$PATH
help=$(ipvs --help) || fail "ipvs --help exited with $?"
grep -q '^  ipvs -A|E virtual-service' <<<"$help" || fail "ipvs --help does not name the command ipvs: $(sed -n 3p <<<"$help")"
ok "ipvs --help (its usage names the command ipvs)"
version=$(node -p "require('$dir/node_modules/ipvs/package.json').version")
[[ $(ipvs -v) == "ipvs $version:"* ]] || fail "ipvs -v says '$(ipvs -v)'"
ok "ipvs -v"
exporter=$(ipvs-exporter --help) || fail "ipvs-exporter --help exited with $?"
ok "ipvs-exporter --help"
# The docs the help texts point to ship in the package.
for doc in $( (echo "$help"; echo "$exporter"; ipvs apply --help) | grep -o 'docs/[a-z-]*\.md' | sort -u); do
  [[ -f $dir/node_modules/ipvs/$doc ]] || fail "the help names $doc, which the package does not hold"
  ok "$doc is in the package"
done

if [[ -n $kernel ]]; then
  listing=$(unshare --net -- sh -c 'ip link set lo up &&
    ipvs -A -t 192.0.2.81:80 -s rr && ipvs -a -t 192.0.2.81:80 -r 198.51.100.81:80 -m -w 3 && ipvs -Ln') ||
    fail "ipvs against the kernel"
  grep -q '198.51.100.81:80 *Masq *3' <<<"$listing" || fail "ipvs -Ln lists: $listing"
  ok "ipvs -A, -a and -Ln against the kernel"
fi
