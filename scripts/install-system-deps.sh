#!/usr/bin/env bash
# Install the Debian packages the test lab and the demo use, when missing.
# As root on Debian: apt-get update once, then install. Not root: say what is missing
# and go on (the tests that need a tool skip with a reason).
set -euo pipefail
# command -> Debian package
declare -A PKG=(
  [umoci]=umoci
  [skopeo]=skopeo
  [buildah]=buildah
  [crun]=crun
  [docker-registry]=docker-registry
  [busybox]=busybox-static
  [debootstrap]=debootstrap
  [htpasswd]=apache2-utils
  [openssl]=openssl
  [tar]=tar
  [unshare]=util-linux
  [git]=git
  [npm]=npm
)
missing=()
for cmd in "${!PKG[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${PKG[$cmd]}")
done
# busybox must be the static build (it is copied into images)
if command -v busybox >/dev/null 2>&1 && ! dpkg -s busybox-static >/dev/null 2>&1; then
  missing+=(busybox-static)
fi
# libseccomp compiles the RUN steps' seccomp profile (a library: no command to look for)
if command -v dpkg >/dev/null 2>&1 && ! dpkg -s libseccomp2 >/dev/null 2>&1; then
  missing+=(libseccomp2)
fi
# Azurite, the Azure Storage emulator, comes from npm (tests/lab/objectstores.py).
install_azurite() {
  command -v azurite-blob >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v npm >/dev/null 2>&1; then
    echo "note: azurite is missing (not root or no npm); Azure context tests will skip" >&2
    return 0
  fi
  echo "installing: azurite (npm)" >&2
  npm install -g --no-audit --no-fund --loglevel=error azurite >&2
}
# Multi-platform builds (issue 15): RUN steps for arm64 execute through qemu-user-static,
# registered with binfmt_misc with the fix-binary flag (binfmt-support does so); the lab's
# arm64 busybox is Debian's busybox-static:arm64, which needs arm64 as a dpkg architecture.
setup_foreign() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "note: not root or no apt-get: arm64 emulation not set up; its tests will skip" >&2
    return 0
  fi
  local update=0 pkgs=()
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    update=1
  fi
  dpkg -s qemu-user-static >/dev/null 2>&1 || pkgs+=(qemu-user-static)
  dpkg -s binfmt-support >/dev/null 2>&1 || pkgs+=(binfmt-support)
  if [ ${#pkgs[@]} -gt 0 ] || [ "$update" = 1 ]; then
    echo "installing: ${pkgs[*]} (arm64 added to dpkg: $update)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    [ ${#pkgs[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
  fi
  local dir=/proc/sys/fs/binfmt_misc
  if [ ! -e "$dir/status" ]; then
    mount -t binfmt_misc binfmt_misc "$dir" 2>/dev/null ||
      echo "note: cannot mount binfmt_misc (an unprivileged container?): arm64 tests will skip" >&2
  fi
  if [ -e "$dir/status" ] && [ ! -e "$dir/qemu-aarch64" ]; then
    update-binfmts --enable qemu-aarch64 >&2 ||
      echo "note: cannot register qemu-aarch64 with binfmt_misc: arm64 tests will skip" >&2
  fi
}
if [ ${#missing[@]} -eq 0 ]; then install_azurite; setup_foreign; exit 0; fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: missing ${missing[*]} (not root or no apt-get); tests that need them will skip" >&2
  exit 0
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
install_azurite
setup_foreign
