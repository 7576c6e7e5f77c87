# The two commands of the README:
#   make run    start Slotwire on the embedded SQLite file ./slotwire.db
#   make test   install what the tests need, then vet and run every test
GO ?= go

.PHONY: build run test test-deps vet bench

build:
	$(GO) build -o slotwire ./cmd/slotwire

run: build
	./slotwire serve

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# Node.js and the reference standardwebhooks package (signature
# compatibility test); PostgreSQL is installed and started by
# scripts/with-postgres.sh.
test-deps:
	@bash scripts/test-deps.sh

test: vet test-deps
	SLOTWIRE_REQUIRE_NPM=1 SLOTWIRE_REQUIRE_POSTGRES=1 bash scripts/with-postgres.sh $(GO) test -race -count=1 -timeout 20m ./...

bench: build
	./slotwire bench
