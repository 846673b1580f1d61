# Two commands a newcomer needs: `make run` and `make test` (plus `make bench`).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

AXE    := $(VENV)/axe/node_modules/axe-core/axe.min.js

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
	$(PY) -m streamlit run serve.py --server.port $(PORT)

# $(call debian_package,PROGRAM,PACKAGE,WHO NEEDS IT): install a Debian package when PROGRAM is missing (as root;
# otherwise say how). Browser tests drive Debian's Chromium (Playwright's own browser download does not work here);
# tests/e2e/test_replicas.py runs deploy/ behind nginx, and the nginx it starts needs no root.
define debian_package
	@if [ -x $(1) ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian's $(2) for $(3)..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	else \
		echo "$(3): Debian's $(2) is needed at $(1)."; \
		echo "Install it with:  sudo apt-get install -y $(2)   and run 'make test' again."; \
		exit 1; \
	fi
endef

chromium:
	$(call debian_package,/usr/bin/chromium,chromium,the browser tests)

nginx:
	$(call debian_package,/usr/sbin/nginx,nginx,the replica test)

# axe-core (npm) audits every page for WCAG 2.1 AA in tests/e2e/test_a11y.py; npm comes with Debian's nodejs.
$(AXE):
	$(call debian_package,/usr/bin/npm,nodejs npm,the accessibility audit)
	npm install --prefix $(VENV)/axe --no-save --no-audit --no-fund --loglevel=error axe-core@4.14.1

test: $(VENV)/.dev chromium nginx $(AXE)
	$(PY) -m pytest tests/unit tests/app tests/e2e

# The quick loop: unit tests and AppTests, no browser (a few minutes; `make test` runs all three tiers).
test-fast: $(VENV)/.dev
	$(PY) -m pytest tests/unit tests/app -m "not e2e"

bench: $(VENV)/.dev
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache artifacts
