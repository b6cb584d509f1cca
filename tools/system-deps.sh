#!/usr/bin/env bash
# Install the optional system tool the project uses: Graphviz's `dot` (SVG/PNG cell drawings).
# Without it everything still works: drawings fall back to matplotlib, with a note saying so.
if command -v dot >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
    && echo "installed graphviz ($(dot -V 2>&1))" && exit 0
fi
echo "note: Graphviz 'dot' is not installed (apt-get install graphviz, or your OS's package);" \
     "drawings will use the matplotlib fallback and dot-specific tests will skip." >&2
exit 0
