#!/usr/bin/env bash
# Installs the Debian packages the tests need beyond Node: a Vulkan loader and Mesa's lavapipe
# (software Vulkan, so onnxruntime-node's WebGPU provider runs on a machine without a GPU) and
# chromium (browser tests). Idempotent: installs only what is missing, and touches apt only then.
# Not a general setup script: Debian 12 (bookworm), run as root, non-interactive.
#
# Why backports: Dawn (WebGPU inside onnxruntime-node) rejects bookworm's Mesa 22 lavapipe; Mesa 25
# from bookworm-backports works. Run WebGPU with
#   XDG_RUNTIME_DIR=/tmp VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
BACKPORTS_FILE=/etc/apt/sources.list.d/bookworm-backports.sources
LAVAPIPE_ICD=/usr/share/vulkan/icd.d/lvp_icd.json
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

log() { echo "[install-system-deps] $*"; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (apt-get install); skipped" >&2
  exit 1
fi

# Mesa's lavapipe must be the backports build (major version >= 23); bookworm ships 22.
lavapipe_ok() {
  [ -f "$LAVAPIPE_ICD" ] || return 1
  local version major
  version=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null) || return 1
  major=${version%%.*}
  major=${major#*:} # drop an epoch, if any
  [ "${major:-0}" -ge 23 ]
}
vulkan_loader_ok() { dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'install ok installed'; }
chromium_ok() { [ -x /usr/bin/chromium ]; }

if lavapipe_ok && vulkan_loader_ok && chromium_ok; then
  log "libvulkan1, mesa-vulkan-drivers (backports) and chromium already present"
  exit 0
fi

# The Debian mirror already configured (first URIs line of a deb822 file, or the first `deb` line).
find_debian_mirror() {
  local uri
  uri=$(grep -hE '^URIs:.*/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 | awk '{print $2}')
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(grep -hE '^deb .*/debian/? bookworm' /etc/apt/sources.list | head -n1 | awk '{print $2}')
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

backports_configured() {
  grep -rqsE '(^Suites:.*bookworm-backports|^deb .* bookworm-backports)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

if ! backports_configured; then
  mirror=$(find_debian_mirror)
  log "adding bookworm-backports from $mirror"
  cat >"$BACKPORTS_FILE" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: $KEYRING
EOF
fi

log "apt-get update"
apt-get update -qq

packages=()
if ! lavapipe_ok || ! vulkan_loader_ok; then
  log "installing libvulkan1 mesa-vulkan-drivers from bookworm-backports"
  apt-get install -y -qq --no-install-recommends -t bookworm-backports libvulkan1 mesa-vulkan-drivers >/dev/null
fi
if ! chromium_ok; then packages+=(chromium); fi
if [ "${#packages[@]}" -gt 0 ]; then
  log "installing ${packages[*]}"
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

lavapipe_ok || { log "lavapipe still missing at $LAVAPIPE_ICD" >&2; exit 1; }
chromium_ok || { log "chromium still missing at /usr/bin/chromium" >&2; exit 1; }
log "done: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers), chromium $(dpkg-query -W -f='${Version}' chromium)"
