#!/bin/sh
# tools/render_report.sh REPORT.html OUT.png [WIDTH [HEIGHT]] — renders an HTML file (an experiment's
# report.html) to a PNG with headless Chromium, to look at a report without a browser session.
# Defaults: 1400 x 5000 pixels; the page is cut at HEIGHT, so raise it for long reports.
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTH [HEIGHT]]" >&2
  exit 2
fi
html=$1
out=$2
width=${3:-1400}
height=${4:-5000}
[ -f "$html" ] || { echo "$0: $html: no such file" >&2; exit 1; }
browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
[ -n "$browser" ] || { echo "$0: no chromium found (apt-get install chromium)" >&2; exit 1; }
abs_html=$(realpath "$html")
abs_out=$(realpath -m "$out")
rm -f "$abs_out"
profile=$(mktemp -d)  # a throwaway profile: no state shared with other runs
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
  --screenshot="$abs_out" --window-size="$width,$height" "file://$abs_html" >/dev/null 2>&1 || true
[ -s "$abs_out" ] || { echo "$0: chromium wrote no screenshot to $abs_out" >&2; exit 1; }
echo "$abs_out"
