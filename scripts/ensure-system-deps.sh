#!/bin/sh
# Installs the Debian packages the test suite drives for real: Chromium (browser tests) and
# oathtool (an independent TOTP implementation). Does nothing when they are already present.
set -e
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -x /usr/bin/oathtool ] || missing="$missing oathtool"
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-system-deps: please install:$missing (Debian packages)" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "ensure-system-deps: installing$missing" >&2
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
