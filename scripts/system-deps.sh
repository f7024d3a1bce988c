#!/usr/bin/env bash
# Debian packages Kefu needs and pip cannot provide. Installs only what is missing.
#   run:  Pango for WeasyPrint PDFs, CJK fonts so Chinese prints
#   test: the same, plus Debian's chromium for the browser tests
set -euo pipefail
mode="${1:-test}"

missing=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0; do have_pkg "$pkg" || missing+=("$pkg"); done
if [ "$mode" = "test" ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing system packages (${missing[*]}) and no apt-get here: install them by hand." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "Missing system packages (${missing[*]}); run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
echo "Installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
