# Two commands on a fresh machine:  `make run`  (set up, then start the assistant)  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: run test setup index translations extract benchmarks clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Telegram bot when TELEGRAM_BOT_TOKEN is set, otherwise the same assistant in the terminal.
run: $(STAMP)
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ]; then $(PY) -m bot run; else $(PY) -m bot chat; fi

test: $(STAMP)
	$(PY) -m pytest -q

index: $(STAMP)
	$(PY) -m bot index build

# Catalog cycle: extract -> update -> compile (the .mo files are build products, never committed).
extract: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ --add-comments "I18N:" --no-location --sort-output \
		--project partnership-bot --width 120 -o locales/messages.pot .
	$(VENV)/bin/pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching --ignore-obsolete --width 120

translations: $(STAMP)
	$(VENV)/bin/pybabel compile -d locales --statistics

benchmarks: $(STAMP)
	$(PY) benchmarks/retrieval_quality.py
	$(PY) benchmarks/latency.py

clean:
	rm -rf var $(VENV) locales/*/LC_MESSAGES/*.mo
