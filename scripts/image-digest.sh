#!/usr/bin/env bash
# The digest an image tag already points at in the registry, if any. Tags are immutable there, so a re-run
# of a deploy must reuse the image pushed under its commit instead of building (and pushing) a new digest
# under the same tag, which the registry refuses.
#
# usage: image-digest.sh IMAGE TAG        (IMAGE = HOST/PATH, e.g. europe-west1-docker.pkg.dev/p/repo/service)
#   token in REGISTRY_TOKEN (an OAuth access token: Artifact Registry takes it as a bearer token);
#   prints `digest=sha256:…`, or `digest=` when the tag does not exist; fails on any other answer.
#   REGISTRY_SCHEME overrides https (tests).
set -euo pipefail

image="$1" tag="$2"
: "${REGISTRY_TOKEN:?REGISTRY_TOKEN must hold an access token for the registry}"
host="${image%%/*}" path="${image#*/}"
accept="application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.list.v2+json"
accept+=",application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json"

headers="$(mktemp)"
trap 'rm -f "$headers"' EXIT
# HEAD of the manifest: the registry answers with the digest of what it stores (index or manifest).
code="$(curl --silent --show-error --max-time 30 --head --output /dev/null --dump-header "$headers" \
  --write-out '%{http_code}' --header "Authorization: Bearer ${REGISTRY_TOKEN}" --header "Accept: ${accept}" \
  "${REGISTRY_SCHEME:-https}://${host}/v2/${path}/manifests/${tag}" || true)"

case "$code" in
  200)
    digest="$(tr -d '\r' <"$headers" | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p' | head -n 1)"
    if [[ ! "$digest" =~ ^sha256:[0-9a-f]{64}$ ]]; then
      echo "::error::${image}:${tag} exists but the registry sent no digest" >&2
      exit 1
    fi
    echo "digest=${digest}"
    echo "::notice::${image}:${tag} is already pushed (${digest}); reusing it" >&2
    ;;
  404) echo "digest=" ;;
  *)
    echo "::error::could not look up ${image}:${tag} (HTTP ${code:-none})" >&2
    exit 1
    ;;
esac
