#!/usr/bin/env bash
# Installs the packed package into a fresh project DIR, as a user would, on a
# PATH with no compiler, no make, no python and no pkg-config (each is a stub
# that records being called and fails), then checks the install (check.sh).
# Leaves the installed project in DIR, for check.sh --kernel in the lab.
#
#   test/package/install.sh [--tarball FILE] [--ignore-scripts | --pnpm] [--bare] DIR
#     --tarball FILE    the package to install (default: `npm pack` of this
#                       checkout, into build/pack/, which builds dist/ and the
#                       prebuilds: prepack)
#     --ignore-scripts  install with npm's --ignore-scripts (as pnpm 10 does
#                       for a dependency's build script by default)
#     --pnpm            install with pnpm 10 (fetched once into ~/.cache/ipvs-node), which
#                       runs no dependency's build script unless approved
#     --bare            no stubs either: the tools are simply not there (a
#                       package without prebuilds must then fail, saying so)
#   IPVS_CHECK_ARGS     more arguments for check.sh (--addon SUFFIX, --kernel)
#
# npm is the `npm` on PATH, run by the `node` on PATH; it reads the registry
# as configured (NPM_CONFIG_OFFLINE=true installs from npm's cache alone).
# Prints how long npm's install took. Exits non-zero when the install fails,
# calls any of the tools, or a check fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

tarball= npm_flags=() stubs=1 pnpm=
while (($#)); do
  case $1 in
    --tarball) tarball=$(realpath "$2"); shift 2 ;;
    --ignore-scripts) npm_flags+=(--ignore-scripts); shift ;;
    --bare) stubs=; shift ;;
    --pnpm) pnpm=10.34.9; shift ;;
    -*) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
(($# == 1)) || { echo "usage: install.sh [--tarball FILE] [--ignore-scripts | --pnpm] [--bare] DIR" >&2; exit 2; }
dir=$1

if [[ -z $tarball ]]; then
  mkdir -p "$root/build/pack"
  rm -f "$root"/build/pack/ipvs-*.tgz
  (cd "$root" && npm pack --silent --pack-destination build/pack >/dev/null)
  tarball=$(ls "$root"/build/pack/ipvs-*.tgz)
fi
[[ -f $tarball ]] || { echo "install.sh: no tarball at $tarball" >&2; exit 2; }

rm -rf "$dir" && mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# The PATH: node, npm and sh (which runs npm's scripts), and stubs for every
# tool a source build would run.
path=$dir/.path
calls=$dir/.tool-calls
mkdir -p "$path" && : >"$calls"
ln -s "$(command -v node)" "$path/node"
ln -s "$(realpath "$(command -v npm)")" "$path/npm"
ln -s "$(command -v sh)" "$path/sh"
if [[ -n $pnpm ]]; then
  tool=${IPVS_NODE_CACHE:-$HOME/.cache/ipvs-node}/pnpm-$pnpm
  if [[ ! -x $tool/node_modules/.bin/pnpm ]]; then
    mkdir -p "$tool"
    npm install --prefix "$tool" --no-audit --no-fund --loglevel=error "pnpm@$pnpm" >/dev/null
  fi
  ln -s "$(realpath "$tool/node_modules/.bin/pnpm")" "$path/pnpm"
fi
for tool in ${stubs:+cc gcc g++ c++ clang clang++ make gmake python python3 pkg-config node-gyp}; do
  printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 127\n' "$tool" "$calls" >"$path/$tool"
  chmod +x "$path/$tool"
done

printf '{ "name": "ipvs-install-test", "version": "1.0.0", "private": true }\n' >"$dir/package.json"
start=$(date +%s%N)
if [[ -n $pnpm ]]; then
  (cd "$dir" && env -u CC -u CXX -u npm_config_node_gyp PATH="$path" pnpm add --reporter=append-only "$tarball" |
    grep -v '^Progress' || true)
  how="pnpm $pnpm add"
else
  (cd "$dir" && env -u CC -u CXX -u npm_config_node_gyp PATH="$path" \
    npm install --no-audit --no-fund --loglevel=error "${npm_flags[@]}" "$tarball")
  how="npm install ${npm_flags[*]:-with install scripts}"
fi
[[ -d $dir/node_modules/ipvs ]] || { echo "FAILED: $how installed no node_modules/ipvs" >&2; exit 1; }
ms=$((($(date +%s%N) - start) / 1000000))
if [[ -s $calls ]]; then
  echo "FAILED: the install ran build tools:" >&2
  cat "$calls" >&2
  exit 1
fi
printf -- '-- installed %s in %d.%01d s (%s), no build tool called\n' \
  "$(basename "$tarball")" $((ms / 1000)) $((ms % 1000 / 100)) "$how"

read -r -a check_args <<<"${IPVS_CHECK_ARGS:-}"
PATH="$path:$PATH" "$root/test/package/check.sh" "${check_args[@]}" "$dir"
