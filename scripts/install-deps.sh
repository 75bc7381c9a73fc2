#!/usr/bin/env bash
# Installs what Parley needs on Debian 12, only what is missing.
# Usage: scripts/install-deps.sh [run|test]   (test is a superset of run)
set -euo pipefail
profile="${1:-run}"

# Build: Rust crates with C deps, the Tauri app (WebKitGTK), the native media engine (GStreamer).
run_pkgs=(
  build-essential pkg-config curl file libssl-dev
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-nice gstreamer1.0-libav
)
# Tests: a real browser, a display, network namespaces, independent mDNS, TURN, Redis, app driver.
test_pkgs=(
  chromium xvfb xauth iproute2 nftables procps psmisc
  avahi-daemon avahi-utils libnss-mdns dbus
  coturn openssl redis-server webkit2gtk-driver python3-zeroconf
  fonts-noto-cjk  # zh-CN text in browser screenshots
  imagemagick x11-utils  # app window screenshots under Xvfb (import, xwininfo)
  xdg-utils desktop-file-utils libglib2.0-bin  # parley:// links (tests/app/deep-link.sh)
)

want=("${run_pkgs[@]}")
# Node.js may come from another packaging (with npm bundled); only ask Debian when it is absent.
command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
[ "$profile" = test ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Parley needs these Debian packages: ${missing[*]}" >&2
    echo "Run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Packaged daemons must not run as system services here: tests start their own copies.
  for svc in coturn redis-server avahi-daemon; do
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  done
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust with rustup (https://rustup.rs) and re-run." >&2
  exit 1
fi

# tauri-driver (WebDriver for the app suite, tests/app) is a crates.io binary, not a Debian
# package: installed into the project's .tools/ at a pinned version, skipped when present.
tauri_driver_version=2.1.0
if [ "$profile" = test ]; then
  repo="$(cd "$(dirname "$0")/.." && pwd)"
  if [ ! -x "$repo/.tools/bin/tauri-driver" ] \
    || ! grep -qs "tauri-driver $tauri_driver_version" "$repo/.tools/.crates2.json"; then
    echo "Installing tauri-driver $tauri_driver_version into .tools/"
    cargo install tauri-driver --version "$tauri_driver_version" --locked --root "$repo/.tools" --quiet
  fi
fi
