#!/usr/bin/env bash
# Rolls a new image out to the Cloud Run service without a moment of untested traffic:
#   1. deploy a revision with no traffic, reachable only at its own tag URL,
#   2. smoke-test that URL (/api/v1/health answers 200 "healthy" and reports this build's version),
#   3. move all traffic to it (and back to following the latest revision, so Terraform template changes go
#      live), then drop the tag.
# If step 2 fails, the service keeps serving the previous revision untouched.
#
# usage: release-cloud-run.sh PROJECT REGION SERVICE IMAGE_WITH_DIGEST VERSION
#   VERSION is what the health endpoint must report (the build's BUILD_VERSION, e.g. the short commit SHA).
set -euo pipefail

project="$1" region="$2" service="$3" image="$4" version="$5"
tag="c-${version}"
gc=(gcloud --quiet --project="$project")

echo "::group::deploy ${image} to ${service} (${project}/${region}) with no traffic, tag ${tag}"
"${gc[@]}" run deploy "$service" --region="$region" --image="$image" --no-traffic --tag="$tag"
echo "::endgroup::"

url="$("${gc[@]}" run services describe "$service" --region="$region" --format=json |
  jq -r --arg tag "$tag" '.status.traffic[] | select(.tag == $tag) | .url')"
if [[ -z "$url" || "$url" == "null" ]]; then
  echo "::error::no URL for tag ${tag}" >&2
  exit 1
fi

"$(dirname "$0")/smoke-test.sh" "$url" "$version"

echo "::group::promote: all traffic to the new revision"
"${gc[@]}" run services update-traffic "$service" --region="$region" --to-latest
"${gc[@]}" run services update-traffic "$service" --region="$region" --remove-tags="$tag"
echo "::endgroup::"

# The public URL as well, now that it serves the new revision.
public="$("${gc[@]}" run services describe "$service" --region="$region" --format='value(status.url)')"
"$(dirname "$0")/smoke-test.sh" "$public" "$version"
echo "url=${public}" >> "${GITHUB_OUTPUT:-/dev/null}"
