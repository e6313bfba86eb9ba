# authd — common tasks. `make run` serves on the embedded default; `make test` runs the tests.

CARGO ?= cargo
COMPOSE ?= docker compose
# PostgreSQL and Redis the PostgreSQL/Redis test suites use (the local servers by default).
AUTH_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
AUTH_TEST_REDIS_URL ?= redis://127.0.0.1:6379
export AUTH_TEST_DATABASE_URL AUTH_TEST_REDIS_URL
# What `make dev` and `make infra/up` point at: the services of docker-compose.yml.
DEV_DATABASE_URL ?= postgres://authd:authd@127.0.0.1:5432/authd
DEV_REDIS_URL ?= redis://127.0.0.1:6379

.PHONY: deps run test ci lint browser browser/deps screenshots helm schemathesis fuzz load load/smoke dev migrate infra/up infra/down clean clean/docker

## deps: the system packages the build needs beyond Rust (OpenSSL headers, pkg-config),
## and the OpenID Connect tests' relying party (openid-client from npm)
deps:
	scripts/ensure-build-deps.sh
	scripts/oidc-deps.sh

## run: build and serve on the embedded default (SQLite and in-process cache under ./data)
run: deps
	$(CARGO) run --release

## test: every test; the PostgreSQL/Redis cases and the browser suite are skipped (and
## say so) when those services or Chromium are missing
test: deps
	scripts/run-tests.sh
	scripts/browser-tests.sh

## lint: formatting and clippy, warnings as errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --all-features -- -D warnings

## ci: deps lint, every test (the browser suite required) with PostgreSQL and Redis required, schemathesis, and the k6 smoke run
ci: deps browser/deps lint
	AUTH_TEST_REQUIRE_SERVICES=1 scripts/run-tests.sh
	AUTH_TEST_REQUIRE_BROWSER=1 scripts/browser-tests.sh
	scripts/helm-check.sh
	scripts/schemathesis.sh
	load/run.sh smoke

## browser/deps: Debian's Chromium, for the browser suite
browser/deps:
	scripts/ensure-browser.sh

## browser: the browser suite alone (tests/browser, Playwright + Chromium)
browser: browser/deps
	AUTH_TEST_REQUIRE_BROWSER=1 scripts/browser-tests.sh

## screenshots: the browser suite, renewing the README's pictures in docs/screenshots
screenshots: browser/deps
	AUTH_TEST_REQUIRE_BROWSER=1 AUTH_TEST_SCREENSHOTS=docs/screenshots scripts/browser-tests.sh

## helm: lint and render deploy/helm/authd, check it against the Kubernetes schemas
helm:
	scripts/helm-check.sh

## schemathesis: generated requests against /openapi.json: no 5xx, answers match the schema
schemathesis:
	scripts/schemathesis.sh

## fuzz: cargo fuzz (nightly) on each target for FUZZ_SECONDS (default 60)
fuzz:
	scripts/fuzz.sh

## load: k6 scenarios on a release build (LOAD_BACKEND=postgres, SOAK=1, DURATION=30s, VUS=...)
load:
	load/run.sh

## load/smoke: a few seconds of each k6 scenario on the debug build
load/smoke:
	load/run.sh smoke

## dev: run against the PostgreSQL and Redis of `make infra/up`
dev:
	AUTH_DATABASE_URL=$(DEV_DATABASE_URL) AUTH_REDIS_URL=$(DEV_REDIS_URL) $(CARGO) run

## migrate: apply migrations to AUTH_DATABASE_URL (default: the embedded SQLite file)
migrate:
	$(CARGO) run --release -- migrate

## infra/up: start PostgreSQL and Redis in Docker and apply the migrations
infra/up:
	$(COMPOSE) up -d --wait postgres redis
	AUTH_DATABASE_URL=$(DEV_DATABASE_URL) $(CARGO) run --release -- migrate

## infra/down: stop the Docker services, keeping their volumes
infra/down:
	$(COMPOSE) stop

## clean/docker: remove the Docker services and their volumes
clean/docker:
	$(COMPOSE) down --volumes --remove-orphans

## clean: remove build artifacts
clean:
	$(CARGO) clean
