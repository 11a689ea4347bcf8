#!/usr/bin/env bash
# Installs the dev dependencies exactly as package-lock.json pins them (`npm ci`: never rewrites the
# lockfile, fails if package.json and the lockfile disagree).
#
# --loglevel=error keeps the first minute quiet: npm's only warnings here are EBADENGINE notices for
# two dependencies of @napi-rs/cli's release tooling (@napi-rs/lzma via @napi-rs/cross-toolchain,
# content-type via @octokit/request) that declare Node >= 22; they load only for cross-compiling
# and publishing (`napi artifacts`, `napi prepublish`), never in `npm run build` or `npm test`.
# Errors still print. esbuild's install script (a binary check; tsx works without it) is declined
# in package.json's allowScripts, so npm does not ask about it.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --loglevel=error
