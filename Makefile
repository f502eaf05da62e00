# The two commands: `make run` (demo on this machine) and `make test` (the whole suite).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test install lint lint-imports typecheck pytest fuzz system-deps bench-inbox bench-ingest bench-concurrency clean messages

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

## make run: install, migrate, seed the demo once, start the demo services and serve on PORT.
## Development explicitly: the helpdesk's own default is production, which refuses the demo.
run: export HELPDESK_ENVIRONMENT := development
run: install
	@mkdir -p var
	$(VENV)/bin/helpdesk migrate
	$(VENV)/bin/helpdesk demo > /dev/null
	$(VENV)/bin/helpdesk dev --port $(PORT)

## Debian packages the tests need: Dovecot (IMAP server), Chromium (browser tests) and Voikko
## (libvoikko1, voikko-fi: the Finnish lemmas of search; without them search falls back to stemming).
system-deps:
	@missing=""; \
	command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || missing="$$missing dovecot-imapd"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	dpkg -s libvoikko1 >/dev/null 2>&1 || missing="$$missing libvoikko1"; \
	dpkg -s voikko-fi >/dev/null 2>&1 || missing="$$missing voikko-fi"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  echo "starting PostgreSQL"; pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; }

lint: install
	$(VENV)/bin/ruff check helpdesk plugins tests bench
	$(VENV)/bin/ruff format --check helpdesk plugins

## make lint-imports: the import contracts in pyproject.toml ([tool.importlinter]): the core's
## layers and the plugin boundary.
lint-imports: install
	$(VENV)/bin/lint-imports --no-cache

typecheck: install
	$(VENV)/bin/mypy

pytest: install system-deps
	$(PY) -m pytest

## make test: everything CI runs.
test: install system-deps lint lint-imports typecheck pytest

## make fuzz: the MIME fuzzer (tests/mimefuzz.py) with FUZZ_EXAMPLES fresh examples per test
## (default 2000; the ordinary suite runs a few dozen fixed ones) over parse and ingest.
FUZZ_EXAMPLES ?= 2000
fuzz: install system-deps
	HELPDESK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) HELPDESK_FUZZ_RANDOM=1 \
	  $(PY) -m pytest -q -p no:cacheprovider tests/helpdesk/mail/test_fuzz_mime.py

## make messages: re-extract the UI strings (templates, Python, N_() keys) of the core into
## helpdesk/i18n/messages.pot and of the invoice plugin into plugins/invoices/i18n/messages.pot,
## and merge new ids into each one's fi and en catalogs (existing translations are kept; ids
## no longer used become #~ entries). The core merges the plugin's catalogs at start-up.
EXTRACT = $(VENV)/bin/pybabel extract -k _ -k gettext -k ngettext:1,2 -k pgettext:1c,2 -k N_ \
	--sort-by-file -w 100
UPDATE = $(VENV)/bin/pybabel update -D messages --no-fuzzy-matching -w 100
messages: install
	$(EXTRACT) -F babel.cfg --project "E-tunnus helpdesk" -o helpdesk/i18n/messages.pot .
	$(UPDATE) -i helpdesk/i18n/messages.pot -d helpdesk/i18n
	$(EXTRACT) -F plugins/invoices/babel.cfg --project "E-tunnus helpdesk invoices" \
	  -o plugins/invoices/i18n/messages.pot plugins/invoices
	$(UPDATE) -i plugins/invoices/i18n/messages.pot -d plugins/invoices/i18n

bench-inbox: install
	$(PY) bench/inbox.py

bench-ingest: install system-deps
	$(PY) bench/ingest.py

## make bench-concurrency: mail arrival while the API is polled, GETs under another's write lock.
bench-concurrency: install system-deps
	$(PY) bench/concurrency.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
