# Two entry points: `make run` installs and starts the course, `make test` installs and tests.
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8866

.PHONY: run test lint system-packages hr trainer

$(VENV)/.installed: pyproject.toml
	@python3 -m venv --help >/dev/null 2>&1 && python3 -c "import ensurepip" 2>/dev/null \
	  || ($(SUDO) apt-get update && $(SUDO) apt-get install -y python3-venv)
	python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[postgres,test,bench]'
	touch $@

system-packages:
	@(command -v chromium && command -v pdftotext && command -v dot && command -v systemd-analyze \
	  && (command -v nginx || test -x /usr/sbin/nginx)) >/dev/null 2>&1 \
	  || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium poppler-utils graphviz nginx-light systemd)

run: $(VENV)/.installed
	$(VENV)/bin/somequiz serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	VENV=$(VENV) .ci/typecheck

test: $(VENV)/.installed system-packages lint
	$(VENV)/bin/somequiz validate
	$(PY) -m pytest
