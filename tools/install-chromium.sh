#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it with executable_path; no browser
# download). Installs only when missing.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
