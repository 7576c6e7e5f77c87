#!/usr/bin/env bash
# Installs what the test suite needs beyond Go: Node.js with npm, and the
# receivers' signature libraries signature/npm_test.go verifies with, the
# OpenAPI linter docs/lint_test.go runs (@redocly/cli), and the headless
# Chromium internal/dashboard/e2e_test.go drives (Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "test-deps: installing nodejs and npm from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "test-deps: installing chromium from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
test -x /usr/bin/chromium
m=signature/testdata/npm/node_modules
if [ ! -d $m/standardwebhooks ] || [ ! -d $m/@octokit/webhooks-methods ] || [ ! -d $m/stripe ]; then
  echo "test-deps: installing the receivers' signature libraries (npm: standardwebhooks, @octokit/webhooks-methods, stripe)"
  npm install --prefix signature/testdata/npm --no-audit --no-fund --no-package-lock --silent 2>&1 | grep -v 'Unknown user config' || true
fi
test -d $m/standardwebhooks && test -d $m/@octokit/webhooks-methods && test -d $m/stripe
l=docs/lint/node_modules
if [ ! -f $l/@redocly/cli/bin/cli.js ]; then
  echo "test-deps: installing the OpenAPI linter (npm: @redocly/cli)"
  npm install --prefix docs/lint --no-audit --no-fund --no-package-lock --silent 2>&1 | grep -v 'Unknown user config' || true
fi
test -f $l/@redocly/cli/bin/cli.js
