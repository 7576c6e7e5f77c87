#!/usr/bin/env bash
# Installs what the test suite needs beyond Go: Node.js with npm, and the
# reference Standard Webhooks library used by signature/npm_test.go.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "test-deps: installing nodejs and npm from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d signature/testdata/npm/node_modules/standardwebhooks ]; then
  echo "test-deps: installing the standardwebhooks npm package"
  npm install --prefix signature/testdata/npm --no-audit --no-fund --no-package-lock --silent 2>&1 | grep -v 'Unknown user config' || true
fi
test -d signature/testdata/npm/node_modules/standardwebhooks
