#!/usr/bin/env bash
# Packaging test: installs the .deb that `make bundle` built (apt resolves its Depends), checks
# what it installed, launches the installed binary under Xvfb with the smoke test's checks
# (window, UI loaded, /device, clean exit), then removes the package, even on failure.
# Needs root. Screenshot: .artifacts/app/deb.png.
# Usage: tests/app/deb.sh [path/to/parley.deb]   (default: the newest under target/release/bundle/deb)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/app/deb: needs root to install packages (run: sudo make test-app)" >&2
  exit 1
fi
deb="${1:-$(find "${CARGO_TARGET_DIR:-target}/release/bundle/deb" -maxdepth 1 -name '*.deb' -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -1 | cut -d' ' -f2-)}"
[ -f "$deb" ] || { echo "tests/app/deb: no .deb found (make bundle)" >&2; exit 1; }
deb="$(realpath "$deb")"
pkg="$(dpkg-deb -f "$deb" Package)"
fail() { echo "app deb: FAIL: $*" >&2; exit 1; }

if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
  fail "$pkg is already installed; remove it first (dpkg -r $pkg) so the test installs this .deb"
fi
apt_log="$(mktemp)"
remove() { dpkg --purge "$pkg" >/dev/null 2>&1 || true; rm -f "$apt_log"; }
trap remove EXIT

# apt-get, not dpkg -i, so an unmet Depends fails the install as it would on a user's machine.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >"$apt_log" 2>&1 \
  || fail "apt-get install $deb: $(cat "$apt_log")"
files="$(dpkg -L "$pkg")"
bin="$(grep -m1 '^/usr/bin/' <<<"$files")" || fail "the package installs nothing under /usr/bin"
desktop="$(grep -m1 '^/usr/share/applications/.*\.desktop$' <<<"$files")" || fail "no .desktop file"
grep -q "^Exec=$(basename "$bin")\b" "$desktop" || grep -q "^Exec=$bin\b" "$desktop" \
  || fail "$desktop does not start $bin: $(grep '^Exec=' "$desktop")"
grep -q '^/usr/share/icons/hicolor/.*/apps/.*\.png$' <<<"$files" || fail "no hicolor icon installed"

# This machine has every build dependency installed, so a missing Depends would go unnoticed by
# the launch below: every shared library the binary links must come from a package that the
# .deb's Depends pull in (transitively), as on a fresh machine.
owner() { dpkg -S "$1" 2>/dev/null || dpkg -S "$(realpath "$1")" 2>/dev/null || echo "?: $1"; }
needed="$(ldd "$bin" | awk '/=> \//{print $3}' | while read -r lib; do owner "$lib"; done | cut -d: -f1 | sort -u)"
read -r -a direct <<<"$(dpkg-deb -f "$deb" Depends | sed 's/([^)]*)//g; s/|[^,]*//g; s/,/ /g')"
closure="$(apt-cache depends --recurse --installed --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances "${direct[@]}" | grep -v '^ ' | sed 's/:.*//' | sort -u)"
unlisted="$(comm -23 <(echo "$needed") <(echo "$closure"))"
[ -z "$unlisted" ] || fail "$bin links libraries from packages its Depends (${direct[*]}) do not pull in: $(echo "$unlisted" | tr '\n' ' ')"

tests/app/smoke.sh "$bin" .artifacts/app/deb.png
echo "app deb: ok ($(basename "$deb"), $(du -k "$deb" | cut -f1) KiB; $bin $(du -k "$bin" | cut -f1) KiB; installed, launched, removed)"
