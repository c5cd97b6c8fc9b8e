# tesuji — KataGo as a service.
#
#   make run    start tesuji on its embedded default (API, web UI, SQLite store, local KataGo)
#   make test   every test: unit, race, end to end, browser, packer checks, fuzzing
#
# Each target installs what it is missing (Debian packages, npm packages) first.

GO        ?= go
BIN       := bin/tesuji
GOFLAGS   ?=
FUZZTIME  ?= 30s
# How long the fuzzer may shrink each new input it finds. Go's default, a minute, spent
# nearly all of FUZZTIME shrinking the first one, at 0 executions a second.
FUZZMIN   ?= 2s
ADDR      ?= 127.0.0.1:8080

SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all run build web test bench lint deps-test deps-bench ami clean

all: build

# aptInstall installs the Debian packages that a recipe listed in $$missing, if any.
aptInstall = if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

# deps-bench installs what the benchmarks drive: a real Redis.
deps-bench:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	$(aptInstall)

deps-test:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v packer >/dev/null || missing="$$missing packer"; \
	command -v shellcheck >/dev/null || missing="$$missing shellcheck"; \
	[ -x /usr/games/gnugo ] || missing="$$missing gnugo"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v unzip >/dev/null || missing="$$missing unzip"; \
	$(aptInstall)

# web builds the browser UI's assets (npm ci, esbuild) into web/dist; build embeds them.
web:
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	cd web && npm ci --no-audit --no-fund && node build.mjs

build: web
	$(GO) build -tags webui -o $(BIN) ./cmd/tesuji

# run uses KATAGO / MODEL (or TESUJI_KATAGO / TESUJI_MODEL) when given; when `katago which`
# finds no usable KataGo and network with them, it installs the pinned KataGo release and
# network into the user cache first, once.
run: build
	@if ! ./$(BIN) katago which $(if $(KATAGO),--katago $(KATAGO)) $(if $(MODEL),--model $(MODEL)) >/dev/null 2>&1; then \
		./$(BIN) katago install || exit 1; \
	fi
	./$(BIN) serve --addr $(ADDR) $(if $(KATAGO),--katago $(KATAGO)) $(if $(MODEL),--model $(MODEL))

test: deps-test web
	$(GO) vet ./...
	$(GO) vet -tags webui ./web/
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) test -race -count=1 -timeout 15m ./...
	TESUJI_ARTIFACTS=$(CURDIR)/testdata/artifacts $(GO) test -race -count=1 -timeout 5m -tags webui ./web/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMIN) ./game

bench: deps-bench
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }

# ami builds the GPU worker image (needs AWS credentials and a current Packer); it prints
# the AMI id that tesuji fleet takes. See packer/README.md.
ami:
	packer/ami.sh

clean:
	rm -rf bin
