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
# Report: target/autobahn/report/index.html and a summary on stdout.
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
mkdir -p "$out"
./target/release/arena-server --addr "127.0.0.1:$port" --echo >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done

cat >"$out/fuzzingclient.json" <<JSON
{
  "outdir": "$out/report",
  "servers": [{"agent": "arena-server", "url": "ws://127.0.0.1:$port/echo"}],
  "cases": ["*"],
  "exclude-cases": ["12.*", "13.*"],
  "exclude-agent-cases": {}
}
JSON
(cd "$out" && timeout 600 "$home/venv/bin/wstest" -m fuzzingclient -s fuzzingclient.json >"$out/wstest.log" 2>&1)

# A case passes on Autobahn's own verdict (OK, NON-STRICT, INFORMATIONAL), or if it sent a
# message over the server's size limit and the server refused it as /ws does: a clean
# close with 1009. /echo has exactly /ws's limits, and /ws takes no message over 16 KiB.
"$python2" - "$out/report" <<'PY'
import json, os, sys
report = sys.argv[1]
results = json.load(open(os.path.join(report, "index.json")))["arena-server"]
counts = {}
failed = []
for case, result in sorted(results.items()):
    verdict = result["behavior"]
    if verdict == "OK" and result["behaviorClose"] not in ("OK", "INFORMATIONAL"):
        verdict = "UNCLEAN CLOSE"
    if verdict not in ("OK", "NON-STRICT", "INFORMATIONAL"):
        detail = json.load(open(os.path.join(report, result["reportfile"])))
        if detail["wasClean"] and detail["remoteCloseCode"] == 1009:
            verdict = "REFUSED 1009 (over the size limit)"
    counts[verdict] = counts.get(verdict, 0) + 1
    if verdict not in ("OK", "NON-STRICT", "INFORMATIONAL", "REFUSED 1009 (over the size limit)"):
        failed.append((case, result["behavior"], result["behaviorClose"]))
print("autobahn: %d cases: %s" % (len(results), ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
for case, behavior, close in failed:
    print("  FAILED %s: %s (close %s)" % (case, behavior, close))
sys.exit(1 if failed else 0)
PY
