# The two commands of the README:
#   make run    start Slotwire on the embedded SQLite file ./slotwire.db
#   make test   install what the tests need, then vet and run every test
GO ?= go

STATICCHECK_VERSION ?= v0.8.2
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: build run test test-deps vet lint bench

build:
	$(GO) build -o slotwire ./cmd/slotwire

run: build
	./slotwire serve

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# staticcheck, installed from the Go module proxy on first use.
lint:
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(STATICCHECK) ./...

# Node.js and the reference standardwebhooks package (signature
# compatibility test), Redocly CLI (OpenAPI lint, docs/lint_test.go), and
# Debian's chromium (the dashboard's browser test,
# internal/dashboard/e2e_test.go); PostgreSQL is installed and started by
# scripts/with-postgres.sh.
test-deps:
	@bash scripts/test-deps.sh

# One PostgreSQL server for both runs: the whole suite (the postgres
# package runs the shared conformance suite on it), then the scheduling
# suite again with PostgreSQL as its store.
test: vet lint test-deps
	SLOTWIRE_REQUIRE_NPM=1 SLOTWIRE_REQUIRE_BROWSER=1 bash scripts/with-postgres.sh sh -c '\
	  $(GO) test -race -count=1 -timeout 20m ./... && \
	  $(GO) test -race -count=1 -timeout 10m -tags postgres ./internal/scheduling/'


bench: build
	./slotwire bench
