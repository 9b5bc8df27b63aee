#!/usr/bin/env bash
# Smoke test of a deployed Switchboard: GET /api/v1/health must answer 200 with status "healthy" and, when
# given, report the expected build version (so an old revision answering cannot pass for the new one).
# Retries for up to ~2 minutes: a fresh revision may still be starting.
#
# usage: smoke-test.sh BASE_URL [EXPECTED_VERSION_SUFFIX]
#   SMOKE_ATTEMPTS (24) and SMOKE_DELAY_SECONDS (5) tune the retries.
set -euo pipefail

base="${1%/}" expected="${2:-}"
attempts="${SMOKE_ATTEMPTS:-24}" delay="${SMOKE_DELAY_SECONDS:-5}"
for attempt in $(seq 1 "$attempts"); do
  body="$(curl --silent --show-error --max-time 10 --write-out '\n%{http_code}' "${base}/api/v1/health" || true)"
  code="${body##*$'\n'}" json="${body%$'\n'*}"
  status="$(jq -r '.status // empty' <<<"$json" 2>/dev/null || true)"
  version="$(jq -r '.version // empty' <<<"$json" 2>/dev/null || true)"
  if [[ "$code" == "200" && "$status" == "healthy" && ( -z "$expected" || "$version" == *"+${expected}" ) ]]; then
    echo "smoke test passed: ${base}/api/v1/health → 200 ${status}, version ${version}"
    exit 0
  fi
  echo "attempt ${attempt}: HTTP ${code:-?}, status ${status:-?}, version ${version:-?}"
  if ((attempt < attempts)); then sleep "$delay"; fi
done
echo "::error::smoke test failed: ${base}/api/v1/health never answered 200 healthy${expected:+ with version *+${expected}}" >&2
echo "$json" >&2
exit 1
