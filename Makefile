# CE Flow: `make run` starts the app with demo data; `make test` runs the whole suite.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
VENDOR  := webapp/static/vendor
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup run test lint browser translations clean

setup: $(STAMP) $(VENDOR)/.copied translations

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR)/.copied: node_modules/.installed
	mkdir -p $(VENDOR)/bpmn-js $(VENDOR)/chart.js $(VENDOR)/axe-core
	cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js $(VENDOR)/bpmn-js/
	cp node_modules/bpmn-js/dist/bpmn-modeler.production.min.js $(VENDOR)/bpmn-js/
	cp -r node_modules/bpmn-js/dist/assets/. $(VENDOR)/bpmn-js/assets/
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.js/
	cp node_modules/axe-core/axe.min.js $(VENDOR)/axe-core/  # injected by the browser walk test only
	touch $@

translations: $(STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -d webapp/translations

# chromium for the browser tests; the fonts the pass certificate PDF embeds (TrueType outlines:
# reportlab cannot embed Noto CJK's); poppler-utils to check the PDF (pdftotext, pdftoppm, pdffonts)
DEBIAN_PACKAGES := chromium fonts-noto-cjk fonts-arphic-uming fonts-wqy-zenhei poppler-utils

browser:
	@dpkg -s $(DEBIAN_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null; }

run: setup
	$(VENV)/bin/ceflow run

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

test: setup browser lint
	$(PY) -m pytest

clean:
	rm -rf $(VENV) node_modules $(VENDOR) instance
