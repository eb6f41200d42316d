#!/usr/bin/env bash
# Runs the Autobahn TestSuite's fuzzing client against arena-server's /echo endpoint on
# loopback, and fails unless every case is OK, NON-STRICT or INFORMATIONAL.
#
# The suite (autobahntestsuite) runs only under Python 2.7: this script builds a
# virtualenv for it once, under $ARENA_AUTOBAHN_HOME (default ~/.cache/arena-autobahn),
# from pyenv's 2.7 (or any python2.7 on the PATH) and PyPI. Compression cases (12.*, 13.*)
# are excluded: Arena negotiates no permessage-deflate.
#
# Usage: benches/autobahn/run.sh            (builds the server in release mode)
# Reports: target/autobahn/{default-limits,large-messages}/report/index.html, and a
# summary of each on stdout.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
home="${ARENA_AUTOBAHN_HOME:-$HOME/.cache/arena-autobahn}"
port="${ARENA_AUTOBAHN_PORT:-19001}"
out="$root/target/autobahn"

python2=""
if command -v pyenv >/dev/null && [ -x "$(pyenv root)/versions/2.7.18/bin/python2.7" ]; then
  python2="$(pyenv root)/versions/2.7.18/bin/python2.7"
elif command -v python2.7 >/dev/null; then
  python2="$(command -v python2.7)"
else
  echo "autobahn: needs Python 2.7 (pyenv install 2.7.18)" >&2
  exit 1
fi

if [ ! -x "$home/venv/bin/wstest" ]; then
  echo "autobahn: installing the test suite into $home" >&2
  rm -rf "$home"
  mkdir -p "$home"
  "$python2" -m pip install --quiet --target "$home/bootstrap" virtualenv==20.15.1
  PYTHONPATH="$home/bootstrap" "$python2" -m virtualenv --quiet "$home/venv"
  "$home/venv/bin/pip" install --quiet setuptools==44.0.0 txaio==2.1.0 incremental==16.10.1 \
    pyOpenSSL==19.1.0 cryptography==3.3.2 Twisted==19.10.0 zope.interface==4.6.0 \
    jinja2==2.11.3 markupsafe==1.1.1 Werkzeug==1.0.1 klein==17.10.0 service_identity==18.1.0 \
    unittest2==1.1.0 six==1.16.0 'autobahn[accelerate,twisted]==0.10.9' autobahntestsuite==25.10.1
fi

cd "$root"
cargo build --release --quiet -p arena-server

# Runs the suite against a server started with the limits in $2 (TOML); $3 = yes lets a
# case pass as a clean close 1009 on a message over the size limit.
run_suite() {
  local name="$1" limits="$2" allow_refusals="$3"
  local dir="$out/$name"
  mkdir -p "$dir"
  printf '%s\n' "$limits" >"$dir/limits.toml"
  ./target/release/arena-server --addr "127.0.0.1:$port" --config "$dir/limits.toml" --echo \
    >"$dir/server.log" 2>&1 &
  local server=$!
  for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
  done
  cat >"$dir/fuzzingclient.json" <<JSON
{
  "outdir": "$dir/report",
  "servers": [{"agent": "arena-server", "url": "ws://127.0.0.1:$port/echo"}],
  "cases": ["*"],
  "exclude-cases": ["12.*", "13.*"],
  "exclude-agent-cases": {}
}
JSON
  (cd "$dir" && timeout 900 "$home/venv/bin/wstest" -m fuzzingclient -s fuzzingclient.json \
    >"$dir/wstest.log" 2>&1) || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  "$python2" - "$dir/report" "$allow_refusals" <<'PY'
import json, os, sys
report = sys.argv[1]
allow_refusals = sys.argv[2] == "yes"
results = json.load(open(os.path.join(report, "index.json")))["arena-server"]
counts = {}
failed = []
for case, result in sorted(results.items()):
    verdict = result["behavior"]
    if verdict == "OK" and result["behaviorClose"] not in ("OK", "INFORMATIONAL"):
        verdict = "UNCLEAN CLOSE"
    if verdict not in ("OK", "NON-STRICT", "INFORMATIONAL"):
        detail = json.load(open(os.path.join(report, result["reportfile"])))
        if allow_refusals and detail["wasClean"] and detail["remoteCloseCode"] == 1009:
            verdict = "REFUSED 1009 (over the size limit)"
    counts[verdict] = counts.get(verdict, 0) + 1
    if verdict not in ("OK", "NON-STRICT", "INFORMATIONAL", "REFUSED 1009 (over the size limit)"):
        failed.append((case, result["behavior"], result["behaviorClose"]))
print("autobahn (%s): %d cases: %s" % (os.path.basename(os.path.dirname(report)), len(results), ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
for case, behavior, close in failed:
    print("  FAILED %s: %s (close %s)" % (case, behavior, close))
sys.exit(1 if failed else 0)
PY
}

# 1. /ws's own limits (no message over limits.max_message_bytes = 16 KiB): a case passes
#    on Autobahn's verdict (OK, NON-STRICT, INFORMATIONAL) or as a clean close 1009 on a
#    message over the limit, which is /ws's answer too.
# 2. The same server with the limit raised to 64 MiB, as any deployment could configure
#    it: every case must pass on Autobahn's own verdict.
status=0
run_suite default-limits "" yes || status=1
run_suite large-messages "$(printf '[limits]\nmax_message_bytes = 67108864')" no || status=1
exit $status
