# Mentorlink — the stable commands. Everything installs from pyproject.toml + uv.lock.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: install dev test test-fast newcomer-check test-unit test-integration test-e2e fuzz lint typecheck docs kafka-up kafka-down check-manifests bench-matching bench-system bench-onboarding bench-scale chaos cluster cluster-down bench-failover

install:            ## Create .venv with the locked dependencies (installs uv if missing)
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==0.13.8"
	$(UV) sync --frozen

dev: install        ## Run the whole platform: 3 services, Kafka (Apache Kafka on a JVM, else embedded), PostgreSQL, SMTP sink
	$(UV) run --frozen python -m devenv.run

test: install       ## The whole suite (infrastructure resolved by devenv.infra)
	$(UV) run --frozen pytest

test-fast: install  ## The inner loop: unit tests over the fakes, no broker or database (< 1 min)
	$(UV) run --frozen pytest tests/unit -q -m "not slow"

newcomer-check: install  ## Fresh clone, make dev, the README's curl calls, the email, Ctrl-C, nothing left
	$(UV) run --frozen python scripts/newcomer_check.py

test-unit: install
	$(UV) run --frozen pytest tests/unit

test-integration: install
	$(UV) run --frozen pytest tests/integration

test-e2e: install
	$(UV) run --frozen pytest tests/e2e

fuzz: install       ## Hostile input, full budget: over 10,000 generated cases (prints the count)
	HYPOTHESIS_PROFILE=fuzz $(UV) run --frozen pytest tests/fuzz --timeout 1800

lint: install       ## ruff, import contracts
	$(UV) run --frozen ruff check .
	$(UV) run --frozen lint-imports

typecheck: install
	$(UV) run --frozen mypy

docs: install       ## Regenerate docs/schemas and docs/asyncapi from the code
	$(UV) run --frozen python scripts/export_contracts.py

kafka-up:           ## Apache Kafka (KRaft, from Maven Central) on 127.0.0.1:9092
	bash scripts/kafka/start.sh --port 9092

kafka-down:
	bash scripts/kafka/stop.sh

cluster: install     ## Production shape in the background: 3 Kafka nodes, PostgreSQL primary + standby, services (KAFKA_PROFILE=production)
	$(UV) run --frozen python -m devenv.cluster_cli up

cluster-down:       ## Stop everything `make cluster` started (recorded in .cache/cluster/state.json)
	$(UV) run --frozen python -m devenv.cluster_cli down

bench-failover: install  ## Kafka leader (killed, frozen) and PostgreSQL primary failovers under load (3 nodes + standby); CI: ARGS="--events 3000 --faults 1 --down-s 5 --first-s 10 --settle-s 5"
	$(UV) run --frozen python -m benchmarks.failover $(ARGS)

check-manifests: install  ## Render deploy/k8s with kustomize and validate it offline (schemas + KEDA CRDs)
	bash scripts/check-manifests.sh

bench-matching: install  ## Matching engine benchmark (50k mentors, 500k mentees); ARGS="--mentors 500 --mentees 5000"
	$(UV) run --frozen python -m benchmarks.matching $(ARGS)

bench-system: install  ## Whole pipeline as processes: sustainable and saturation rates, work per core; short: ARGS="--short-s 5 --long-s 10 --digest-window-s 0"
	$(UV) run --frozen python -m benchmarks.system $(ARGS)

bench-onboarding: install  ## A company's CSV (10k mentors, 90k mentees) imported, goals set, until the emails; ARGS="--mentors 100 --mentees 900"
	$(UV) run --frozen python -m benchmarks.onboarding $(ARGS)

bench-scale: install  ## A second matching instance joins under load (50k mentors, 500k mentees): the stall of the partitions that stay; ARGS="--mentors 500 --mentees 5000"
	$(UV) run --frozen python -m benchmarks.scale $(ARGS)

chaos: install  ## Unclean faults under load, checked against the workload record; short: ARGS="--events 600 --rate 5 --kills 3 --broker-kills 1 --db-kills 1 --readonly-s 5 --net-faults 6"
	$(UV) run --frozen python -m benchmarks.chaos $(ARGS)
