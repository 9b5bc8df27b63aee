#!/usr/bin/env bash
# Does an environment's Terraform state exist? A plan of an environment that was never applied would fail:
# the GCS backend writes an empty state for a new workspace, and the plan identity may only read the
# bucket. So plans look first, and skip with a message instead of failing.
#
# usage: state-exists.sh BUCKET OBJECT        (token of the caller in STORAGE_TOKEN)
#   prints `exists=true` or `exists=false` and `state=gs://BUCKET/OBJECT` for $GITHUB_OUTPUT; any answer
#   other than 200 or 404 (no permission, bucket missing) fails, since guessing "not applied" there would
#   hide a broken setup. STORAGE_API overrides https://storage.googleapis.com (tests).
set -euo pipefail

bucket="$1" object="$2"
api="${STORAGE_API:-https://storage.googleapis.com}"
: "${STORAGE_TOKEN:?STORAGE_TOKEN must hold an OAuth access token that may read the state bucket}"

url="${api}/storage/v1/b/${bucket}/o/${object//\//%2F}?fields=name"
body="$(mktemp)"
trap 'rm -f "$body"' EXIT
code="$(curl --silent --show-error --max-time 30 --output "$body" --write-out '%{http_code}' \
  --header "Authorization: Bearer ${STORAGE_TOKEN}" "$url" || true)"

echo "state=gs://${bucket}/${object}"
case "$code" in
  200) echo "exists=true" ;;
  404)
    if grep -q "bucket does not exist" "$body"; then
      echo "::error::the state bucket ${bucket} does not exist: apply the bootstrap stack first" >&2
      exit 1
    fi
    echo "exists=false"
    echo "::notice::no Terraform state at gs://${bucket}/${object}: this environment has not been applied yet" >&2
    ;;
  *)
    echo "::error::could not read gs://${bucket}/${object} (HTTP ${code:-none}): $(head -c 500 "$body")" >&2
    exit 1
    ;;
esac
