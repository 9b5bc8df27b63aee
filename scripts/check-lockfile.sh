#!/usr/bin/env bash
# Keeps each stack's provider lock file: `cdktf.out/stacks/<stack>/.terraform.lock.hcl` is committed, and a
# plan must not change it (terraform init writes it when the providers or their checksums differ from
# what is locked). Run after `cdktf diff <stack>`.
#   - committed and unchanged: pass;
#   - committed and changed: fail, showing the diff (update it on purpose, docs/infrastructure.md);
#   - not committed yet: a warning saying how to add it (a new deployment has none until its first init).
#
# usage: check-lockfile.sh STACK
set -euo pipefail

lock="cdktf.out/stacks/${1:?usage: check-lockfile.sh STACK}/.terraform.lock.hcl"
if ! git ls-files --error-unmatch -- "$lock" >/dev/null 2>&1; then
  echo "::warning file=${lock}::${lock} is not committed, so provider versions and checksums are not pinned. Commit it (docs/infrastructure.md, Terraform pins)."
  exit 0
fi
if ! git diff --quiet -- "$lock"; then
  echo "::error file=${lock}::terraform init changed ${lock}: the providers differ from the committed lock. Update it on purpose (docs/infrastructure.md, Terraform pins) and commit it."
  git --no-pager diff -- "$lock"
  exit 1
fi
echo "${lock}: committed and unchanged"
