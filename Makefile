# The two commands a newcomer needs: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test bootstrap bench lock

bootstrap:
	./scripts/bootstrap

run: bootstrap
	$(VENV)/bin/livetalking run

test: bootstrap
	$(VENV)/bin/ruff check livetalking tests benchmarks scripts
	$(PY) -m pytest -q

bench: bootstrap
	$(PY) -m benchmarks.run_all

# Re-pin the full transitive set after changing dependencies in pyproject.toml.
lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^livetalking' > requirements.lock
