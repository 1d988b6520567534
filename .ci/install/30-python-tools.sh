#!/usr/bin/env bash
# Python tools the schema tests run over the generated modules: the compiler
# (python3), `mypy --strict` and `black --check`; pydantic for the modules of
# `style: pydantic` (tests import them). Pinned so black's style, mypy's rules
# and pydantic's checks do not move under the tests.
set -euo pipefail
MYPY=2.4.1
BLACK=26.10.1
PYDANTIC=2.13.4
if ! command -v python3 >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip >/dev/null
fi
have() { python3 -m "$1" --version 2>/dev/null | grep -q "$2"; }
have_pydantic() { python3 -c "import pydantic, sys; sys.exit(pydantic.VERSION != '$PYDANTIC')" 2>/dev/null; }
if have mypy "$MYPY" && have black "$BLACK" && have_pydantic; then
  echo "python tools: present (mypy $MYPY, black $BLACK, pydantic $PYDANTIC)"
  exit 0
fi
python3 -m pip --version >/dev/null 2>&1 || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
}
python3 -m pip install -q "mypy==$MYPY" "black==$BLACK" "pydantic==$PYDANTIC" 2>/dev/null \
  || python3 -m pip install -q --break-system-packages "mypy==$MYPY" "black==$BLACK" "pydantic==$PYDANTIC"
python3 -m mypy --version
python3 -m black --version | head -1
python3 -c 'import pydantic; print("pydantic", pydantic.VERSION)'
