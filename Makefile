# Two commands a newcomer needs: `make run` and `make test` (plus `make bench`).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test test-fast bench chromium nginx clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) -m streamlit run app.py --server.port $(PORT)

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work here).
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "The browser tests need Debian's Chromium at /usr/bin/chromium."; \
		echo "Install it with:  sudo apt-get install -y chromium   and run 'make test' again."; \
		exit 1; \
	fi

# tests/e2e/test_replicas.py runs deploy/ (replicas behind nginx); the nginx it starts needs no root (and is not
# the system service Debian may start on port 80 when it installs the package).
nginx:
	@if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian's nginx for the replica test..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	else \
		echo "The replica test (tests/e2e/test_replicas.py) needs nginx."; \
		echo "Install it with:  sudo apt-get install -y nginx   and run 'make test' again."; \
		exit 1; \
	fi

test: $(VENV)/.dev chromium nginx
	$(PY) -m pytest tests/unit tests/app tests/e2e

# The quick loop: unit tests and AppTests, no browser (a few minutes; `make test` runs all three tiers).
test-fast: $(VENV)/.dev
	$(PY) -m pytest tests/unit tests/app -m "not e2e"

bench: $(VENV)/.dev
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache artifacts
