#!/usr/bin/env bash
# Installs the dev dependencies: `npm ci`, or `npm install` of the same locked versions where npm ci
# refuses the lockfile. Why it can refuse: @napi-rs/cli depends (through @napi-rs/cross-toolchain)
# on @napi-rs/lzma, @napi-rs/tar and @napi-rs/wasm-tools, whose optionalDependencies name
# per-platform packages at versions the registry does not serve (e.g. @napi-rs/tar-android-arm64
# 1.1.3: 404). npm cannot record those in package-lock.json, and npm ci then reports the lockfile
# "out of sync". None of them is for this platform; npm install skips them and keeps every version
# the lockfile pins.
set -uo pipefail
cd "$(dirname "$0")/.."
if npm ci --no-audit --no-fund; then
  exit 0
fi
echo "install-deps: npm ci refused the lockfile (see the comment in scripts/install-deps.sh); running npm install with the same lockfile"
exec npm install --no-audit --no-fund
