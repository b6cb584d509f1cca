#!/usr/bin/env bash
# Install the optional system tools the project uses, as root where apt-get exists:
#   graphviz (`dot`): SVG/PNG cell drawings. Without it drawings fall back to matplotlib.
#   chromium + chromium-driver: the dashboard's browser test (tests/test_dashboard_browser.py).
#     Without them that test skips, saying why; the dashboard itself needs no browser on the server.
# Anything missing is named in one note; the script never fails the caller.
want=()
command -v dot >/dev/null 2>&1 || want+=(graphviz)
command -v chromium >/dev/null 2>&1 || want+=(chromium)
command -v chromedriver >/dev/null 2>&1 || want+=(chromium-driver)
if [ ${#want[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}" >/dev/null); then
    echo "installed ${want[*]}"
    exit 0
  fi
fi
echo "note: could not install ${want[*]} (no apt-get, not root, or the install failed); install them with" \
     "your OS's package manager. Without graphviz drawings use the matplotlib fallback and dot-specific" \
     "tests skip; without chromium/chromium-driver the dashboard browser test skips." >&2
exit 0
