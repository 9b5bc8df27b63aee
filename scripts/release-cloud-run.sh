#!/usr/bin/env bash
# Rolls one image (by digest) out to both Cloud Run services of an environment: the internal worker, which
# serves /internal/* to Cloud Tasks and Cloud Scheduler, and the public service. Terraform creates both on
# a placeholder image and then ignores the image, so a service this script skips stays on the placeholder
# (Google's `hello` answers 200 to every task: every Intercom turn would be dropped without a trace).
#
# usage: release-cloud-run.sh PROJECT REGION SERVICE WORKER_SERVICE IMAGE_WITH_DIGEST VERSION
#   VERSION is what /api/v1/health must report (`…+VERSION`: the build's BUILD_VERSION, the short commit).
#   RELEASE_PUBLIC_URL: where users reach the public service behind the edge; by default the service's own
#     PUBLIC_URL variable, which the stack sets to its `service_url` output (https://<domain>).
#   SMOKE_ATTEMPTS / SMOKE_DELAY_SECONDS: the smoke test's retries (scripts/smoke-test.sh).
#
# The steps, in this order:
#   1. Worker: a new revision with no traffic. No runner can reach it over HTTP (ingress internal), so what
#      gates it is readiness: `gcloud run deploy` waits for the revision to become Ready and fails when it
#      does not, and Cloud Run never routes to a revision whose startup probe has not passed
#      (https://cloud.google.com/run/docs/configuring/healthchecks). The probe is /api/v1/health, which
#      answers 503 until the database answers, and the service applies pending migrations before it
#      listens: a worker that cannot start, log in to Cloud SQL or migrate stops the release here, with
#      nothing moved. Its instance is the release's first, so the migrations run in it.
#   2. Public service: a new revision with no traffic, gated the same way, then
#      - ingress `all` (no edge): under a tag, whose URL is smoke-tested before any traffic moves;
#      - ingress `internal-and-cloud-load-balancing` (the edge): the tag and run.app URLs answer only from
#        inside Google Cloud, so readiness is the only gate before traffic (see "behind the edge" below).
#   3. Promote the worker, then the public service (--to-latest, so Terraform's template changes go live).
#      Consumer before producer: a new public revision may enqueue a task only the new worker understands
#      (a new /internal route or payload field: the old worker would answer 404 until Cloud Tasks gives up,
#      or drop the field), while the new worker must, and being the newer code can, handle the tasks the old
#      public revision enqueued. So for the seconds between the two promotions the pairing is old public +
#      new worker, never the reverse. From step 1 until step 3 the old revisions of both services run on
#      the migrated schema: migrations stay backward compatible (docs/runbook.md, rolling back).
#   4. Smoke-test the public URL (/api/v1/health: 200 "healthy" with this build's version). If that fails,
#      both services go back to the revisions that served before (public first, then worker: the reverse
#      of step 3) and the release fails.
#
# Behind the edge, compared with the tagged path, users reach the new revision before any HTTP request has
# tested it: a revision that starts and reaches its database but answers wrongly serves real traffic from
# its promotion until the smoke test gives up and the rollback lands (SMOKE_ATTEMPTS × SMOKE_DELAY_SECONDS,
# 12 × 5 s by default on this path). What remains: the same digest passed the tagged smoke test in staging (which has no edge) before production, the startup
# probe keeps a revision that cannot start or reach the database away from users, and the smoke test goes
# through the same load balancer and Cloud Armor policy as users do. Testing through the edge before
# promotion would need a serverless NEG with a URL mask for the tag (`<tag>.<domain>`): a wildcard DNS
# record and a wildcard certificate (Certificate Manager with DNS authorization; the classic managed
# certificate takes no wildcard), a second backend service with its own Cloud Armor policy, and a public
# host that serves every tagged, untested revision to the internet. Not worth it for the one environment
# whose image staging has already tested.
set -euo pipefail

project="$1" region="$2" service="$3" worker="$4" image="$5" version="$6"
tag="c-${version}"
gc=(gcloud --quiet --project="$project")
smoke="$(dirname "$0")/smoke-test.sh"

describe() { "${gc[@]}" run services describe "$1" --region="$region" --format=json; }

# `rev-a=100` (or a split, `rev-a=90,rev-b=10`): the revisions serving now, which a rollback restores.
serving_revisions() {
  jq -r '[.status.traffic[]? | select((.percent // 0) > 0) | "\(.revisionName)=\(.percent)"] | join(",")'
}

deploy_without_traffic() {
  local name="$1"
  shift
  echo "::group::deploy ${image} to ${name} (${project}/${region}) with no traffic $*"
  "${gc[@]}" run deploy "$name" --region="$region" --image="$image" --no-traffic "$@"
  echo "::endgroup::"
}

promote() {
  echo "::group::promote: all traffic of $1 to its new revision"
  "${gc[@]}" run services update-traffic "$1" --region="$region" --to-latest
  echo "::endgroup::"
}

# Best effort on both services, so a failure on one still returns the other.
rollback() {
  local status=0
  echo "::error::smoke test of the promoted release failed: rolling ${service} back to ${public_before} and ${worker} to ${worker_before}" >&2
  "${gc[@]}" run services update-traffic "$service" --region="$region" --to-revisions="$public_before" || status=1
  "${gc[@]}" run services update-traffic "$worker" --region="$region" --to-revisions="$worker_before" || status=1
  if ((status != 0)); then echo "::error::the rollback itself failed: check both services' traffic now" >&2; fi
}

public_json="$(describe "$service")"
public_before="$(serving_revisions <<<"$public_json")"
worker_before="$(describe "$worker" | serving_revisions)"
if [[ -z "$public_before" || -z "$worker_before" ]]; then
  echo "::error::cannot tell which revisions of ${service} and ${worker} serve now, so nothing to roll back to" >&2
  exit 1
fi
ingress="$(jq -r '.metadata.annotations["run.googleapis.com/ingress"] // "all"' <<<"$public_json")"
case "$ingress" in
  all) ;;
  internal-and-cloud-load-balancing)
    public="${RELEASE_PUBLIC_URL:-$(jq -r '.spec.template.spec.containers[0].env[]? | select(.name == "PUBLIC_URL") | .value' <<<"$public_json")}"
    if [[ -z "$public" || "$public" == "null" ]]; then
      echo "::error::${service} is behind the edge but has no PUBLIC_URL; set RELEASE_PUBLIC_URL to https://<domain>" >&2
      exit 1
    fi
    # Readiness is all there is before users get the revision: a failing one should not serve for the
    # smoke test's default two minutes.
    export SMOKE_ATTEMPTS="${SMOKE_ATTEMPTS:-12}"
    ;;
  *)
    echo "::error::${service} has ingress '${ingress}': no public URL to smoke-test it through" >&2
    exit 1
    ;;
esac

deploy_without_traffic "$worker"

if [[ "$ingress" == "all" ]]; then
  deploy_without_traffic "$service" --tag="$tag"
  tag_url="$(describe "$service" | jq -r --arg tag "$tag" '.status.traffic[]? | select(.tag == $tag) | .url')"
  if [[ -z "$tag_url" || "$tag_url" == "null" ]]; then
    echo "::error::no URL for tag ${tag}" >&2
    exit 1
  fi
  # A failure here leaves both services serving what they served before: nothing was promoted.
  "$smoke" "$tag_url" "$version"
else
  deploy_without_traffic "$service"
  echo "::notice::${service} is behind the edge: its new revision is gated on readiness only, smoke-tested through ${public} after promotion, and rolled back if that fails"
fi

promote "$worker"
promote "$service"

if [[ "$ingress" == "all" ]]; then
  "${gc[@]}" run services update-traffic "$service" --region="$region" --remove-tags="$tag"
  public="$(describe "$service" | jq -r '.status.url')"
fi

if ! "$smoke" "$public" "$version"; then
  rollback
  exit 1
fi
echo "url=${public}" >> "${GITHUB_OUTPUT:-/dev/null}"
