import { access, constants, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";

/**
 * The delivery pipeline's security and ordering properties, asserted on the workflow files themselves so a
 * later edit cannot silently drop them: triggers, least-privilege permissions, keyless identities (plan vs
 * deploy), pinned actions, concurrency, the production approval gate, the database service of the tests.
 */

const ROOT = join(import.meta.dirname, "../..");
const DIR = join(ROOT, ".github/workflows");

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  if?: string;
}
interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string> | string;
  environment?: string | { name: string; url?: string };
  concurrency?: { group: string; "cancel-in-progress"?: boolean } | string;
  services?: Record<string, { image: string; env?: Record<string, string> }>;
  strategy?: { matrix?: Record<string, unknown> };
  env?: Record<string, string>;
  steps?: Step[];
  uses?: string;
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflows = new Map<string, { raw: string; wf: Workflow }>();
const get = (file: string) => {
  const w = workflows.get(file);
  if (!w) throw new Error(`${file} missing`);
  return w.wf;
};

beforeAll(async () => {
  for (const file of (await readdir(DIR)).filter((f) => /\.ya?ml$/.test(f))) {
    const raw = await readFile(join(DIR, file), "utf8");
    workflows.set(file, { raw, wf: parse(raw) as Workflow });
  }
});

const AUTH = "google-github-actions/auth@";
/** A GitHub Actions expression as it appears in the YAML. */
const gha = (expression: string) => `\${{ ${expression} }}`;
const isAuth = (s: Step) => s.uses?.startsWith(AUTH) ?? false;
const jobsOf = (wf: Workflow) => Object.entries(wf.jobs);
const stepsOf = (job: Job) => job.steps ?? [];
const runs = (job: Job) => stepsOf(job).map((s) => s.run ?? "");

describe("all workflows", () => {
  test("plan.yml and deploy.yml exist", () => {
    expect([...workflows.keys()].sort()).toEqual(expect.arrayContaining(["deploy.yml", "plan.yml"]));
  });

  test("no workflow grants anything at the top level; every job states its permissions", () => {
    for (const [file, { wf }] of workflows) {
      expect(wf.permissions, file).toEqual({});
      for (const [name, job] of jobsOf(wf)) {
        expect(job.permissions, `${file} ${name}`).toBeTypeOf("object");
        expect(Object.values(job.permissions ?? {})).not.toContain("write-all");
        // Nothing here pushes to the repository.
        expect((job.permissions as Record<string, string>).contents ?? "read").toBe("read");
      }
    }
  });

  test("id-token: write exactly in the jobs that authenticate to Google Cloud", () => {
    for (const [file, { wf }] of workflows) {
      for (const [name, job] of jobsOf(wf)) {
        const authenticates = stepsOf(job).some(isAuth);
        const perms = job.permissions as Record<string, string>;
        expect(perms["id-token"] === "write", `${file} ${name}`).toBe(authenticates);
      }
    }
  });

  test("keyless: no service-account key, credentials file or key secret anywhere", () => {
    for (const [file, { raw, wf }] of workflows) {
      expect(raw, file).not.toMatch(
        /credentials_json|GOOGLE_CREDENTIALS|GOOGLE_APPLICATION_CREDENTIALS|GCP_SA_KEY/i,
      );
      expect(raw, file).not.toMatch(/service_account_key|private_key|\bsa[-_]?key\b/i);
      // Identities come from repository variables, never from secrets.
      expect(raw, file).not.toMatch(/secrets\.[A-Z0-9_]*(GCP|GOOGLE|SERVICE_ACCOUNT|WIF|WORKLOAD)/i);
      for (const [, job] of jobsOf(wf)) {
        for (const step of stepsOf(job).filter(isAuth)) {
          expect(step.with?.workload_identity_provider).toBe(gha("vars.GCP_WORKLOAD_IDENTITY_PROVIDER"));
          expect(Object.keys(step.with ?? {})).not.toContain("credentials_json");
        }
      }
    }
  });

  test("every action outside this repository is pinned to a full commit SHA, with its version as a comment", () => {
    for (const [file, { raw, wf }] of workflows) {
      const uses = jobsOf(wf).flatMap(([, job]) => [
        ...(job.uses ? [job.uses] : []),
        ...stepsOf(job).flatMap((s) => (s.uses ? [s.uses] : [])),
      ]);
      expect(uses.length).toBeGreaterThan(0);
      for (const ref of uses) {
        if (ref.startsWith("./")) continue;
        expect(ref, `${file}: ${ref}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
        const escaped = ref.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
        expect(raw, `${file}: ${ref} needs a "# vX.Y.Z" comment`).toMatch(
          new RegExp(`uses: ${escaped} # v\\d+(\\.\\d+)*`),
        );
      }
      // One action, one pin: two SHAs of the same action would be a half-done upgrade.
      const byAction = new Map<string, Set<string>>();
      for (const ref of uses) {
        const [action = "", sha = ""] = ref.split("@");
        byAction.set(action, (byAction.get(action) ?? new Set()).add(sha));
      }
      for (const [action, shas] of byAction) expect(shas.size, `${file}: ${action}`).toBe(1);
    }
  });

  test("no pull_request_target, and checkouts do not keep the token", () => {
    for (const [file, { wf }] of workflows) {
      expect(Object.keys(wf.on), file).not.toContain("pull_request_target");
      for (const [, job] of jobsOf(wf)) {
        for (const step of stepsOf(job).filter((s) => s.uses?.startsWith("actions/checkout@"))) {
          expect(step.with?.["persist-credentials"]).toBe(false);
        }
      }
    }
  });

  test("no workflow expression is expanded inside a shell script (script injection)", () => {
    for (const [file, { wf }] of workflows) {
      for (const [name, job] of jobsOf(wf)) {
        for (const run of runs(job)) expect(run, `${file} ${name}`).not.toContain(gha("").slice(0, 3));
      }
    }
  });

  test("the scripts the workflows call exist (shell scripts executable)", async () => {
    const referenced = new Set<string>();
    for (const [, { wf }] of workflows) {
      for (const [, job] of jobsOf(wf)) {
        for (const run of runs(job)) for (const m of run.matchAll(/scripts\/[\w.-]+/g)) referenced.add(m[0]);
      }
    }
    expect(referenced.size).toBeGreaterThan(0);
    for (const path of referenced) {
      await access(join(ROOT, path), path.endsWith(".sh") ? constants.X_OK : constants.R_OK);
    }
  });
});

describe("plan.yml (pull requests)", () => {
  test("runs on pull requests to main only", () => {
    const wf = get("plan.yml");
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect((wf.on.pull_request as { branches: string[] }).branches).toEqual(["main"]);
  });

  test("a new push cancels the older run of the same pull request", () => {
    const wf = get("plan.yml");
    expect(wf.concurrency?.group).toContain("github.event.pull_request.number");
    expect(wf.concurrency?.["cancel-in-progress"]).toBe(true);
  });

  test("tests run with a PostgreSQL 15 service and TEST_DATABASE_URL, then on PGlite, then build and synth", () => {
    const job = get("plan.yml").jobs.test as Job;
    const pg = job.services?.postgres;
    expect(pg?.image).toMatch(/^postgres:15(\.\d+)*(@sha256:[0-9a-f]{64})?$/);
    expect(job.env?.TEST_DATABASE_URL).toMatch(/^postgres:\/\/postgres@(127\.0\.0\.1|localhost):5432\/test$/);
    const all = runs(job).join("\n");
    for (const command of [
      "npm ci",
      "npm run lint",
      "npm run typecheck",
      "npx vitest run",
      "npm run build",
      "npm run synth",
    ]) {
      expect(all).toContain(command);
    }
    expect(all).toMatch(/env -u TEST_DATABASE_URL npx vitest run --project service/);
    expect(stepsOf(job).some(isAuth)).toBe(false);
  });

  test("cdktf diff per environment as the read-only plan identity, without the state lock", () => {
    const wf = get("plan.yml");
    const job = wf.jobs.plan as Job;
    expect(job.needs).toBe("test");
    expect(job.strategy?.matrix?.stack).toEqual(["dev", "staging", "prod"]);
    expect(job.env?.TF_CLI_ARGS_plan).toContain("-lock=false");
    expect(runs(job).join("\n")).toMatch(/npx cdktf diff "\$STACK"/);
    const auth = stepsOf(job).filter(isAuth);
    expect(auth).toHaveLength(1);
    expect(auth[0]?.with?.service_account).toBe(gha("vars.GCP_PLAN_SERVICE_ACCOUNT"));
    // Pull requests never see the deploy identity.
    expect(workflows.get("plan.yml")?.raw).not.toContain("GCP_DEPLOY_SERVICE_ACCOUNT");
    // Fork pull requests get no OIDC token: the plan job must not even try.
    expect(job.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
  });

  test("an environment that was never applied is skipped with a message, not a failed plan", () => {
    const job = get("plan.yml").jobs.plan as Job;
    const steps = stepsOf(job);
    const state = steps.findIndex((s) => s.run?.includes("scripts/state-exists.sh"));
    const diff = steps.findIndex((s) => s.id === "diff");
    expect(state).toBeGreaterThan(-1);
    expect(state).toBeLessThan(diff);
    expect(steps[state]?.id).toBe("state");
    expect(steps[diff]?.if).toBe("steps.state.outputs.exists == 'true'");
    const skip = steps.find((s) => s.run?.includes("plan-summary.ts") && s.run.includes("not-applied"));
    expect(skip?.if).toBe("steps.state.outputs.exists == 'false'");
    // The skip message reaches the pull request comment like a plan does.
    const upload = steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(upload?.if).toContain("hashFiles(format('plan/{0}.md', matrix.stack))");
    // The lookup uses the plan identity's own short-lived token.
    expect(steps.find(isAuth)?.with?.token_format).toBe("access_token");
    expect(steps[state]?.env?.STORAGE_TOKEN).toBe(gha("steps.auth.outputs.access_token"));
  });

  test("each planned stack's provider lock file must stay as committed", () => {
    const steps = stepsOf(get("plan.yml").jobs.plan as Job);
    const check = steps.findIndex((s) => s.run?.includes("scripts/check-lockfile.sh"));
    expect(check).toBeGreaterThan(steps.findIndex((s) => s.id === "diff"));
    expect(steps[check]?.if).toBe("steps.diff.outcome == 'success'");
  });

  test("one sticky comment with the per-stack summary, updated in place", () => {
    const job = get("plan.yml").jobs.comment as Job;
    expect(job.permissions).toEqual({ "pull-requests": "write" });
    expect(job.if).toContain("always()");
    const script = String(
      stepsOf(job).find((s) => s.uses?.startsWith("actions/github-script@"))?.with?.script,
    );
    expect(script).toContain("<!-- switchboard:plan -->");
    expect(script).toContain("updateComment");
    expect(script).toContain("createComment");
    for (const stack of ["dev", "staging", "prod"]) expect(script).toContain(`"${stack}"`);
  });
});

describe("deploy.yml (merges to main)", () => {
  const job = (name: string) => get("deploy.yml").jobs[name] as Job;

  test("runs on pushes to main only", () => {
    const wf = get("deploy.yml");
    expect(Object.keys(wf.on)).toEqual(["push"]);
    expect((wf.on.push as { branches: string[] }).branches).toEqual(["main"]);
  });

  test("every job that authenticates uses the deploy identity", () => {
    const wf = get("deploy.yml");
    const authenticated = jobsOf(wf).filter(([, j]) => stepsOf(j).some(isAuth));
    expect(authenticated.map(([n]) => n).sort()).toEqual([
      "image",
      "production",
      "production-plan",
      "staging",
    ]);
    for (const [, j] of authenticated) {
      for (const step of stepsOf(j).filter(isAuth)) {
        expect(step.with?.service_account).toBe(gha("vars.GCP_DEPLOY_SERVICE_ACCOUNT"));
      }
    }
    expect(workflows.get("deploy.yml")?.raw).not.toContain("GCP_PLAN_SERVICE_ACCOUNT");
  });

  test("the image is built from service/Dockerfile and pushed tagged with the commit", () => {
    const push = stepsOf(job("image")).find((s) => s.uses?.startsWith("docker/build-push-action@"));
    expect(push?.with?.file).toBe("service/Dockerfile");
    expect(push?.with?.push).toBe(true);
    expect(String(push?.with?.tags)).toMatch(/:\$\{\{ github\.sha \}\}$/);
    expect(String(push?.with?.["build-args"])).toContain("BUILD_VERSION=");
  });

  test("staging: cdktf deploy with the image, then a smoke-tested roll-out", () => {
    const staging = job("staging");
    expect(staging.needs).toBe("image");
    const steps = stepsOf(staging);
    const deployIndex = steps.findIndex((s) => s.run?.includes("npx cdktf deploy staging"));
    expect(deployIndex).toBeGreaterThan(-1);
    expect(steps[deployIndex]?.env?.SWITCHBOARD_STAGING_IMAGE).toBe(gha("needs.image.outputs.image"));
    const releaseIndex = steps.findIndex((s) => s.run?.includes("scripts/release-cloud-run.sh"));
    expect(releaseIndex).toBeGreaterThan(deployIndex);
  });

  test("production waits for staging and for the production environment's reviewers", () => {
    const prod = job("production");
    expect(prod.needs).toEqual(expect.arrayContaining(["staging", "image", "production-plan"]));
    const env = typeof prod.environment === "string" ? prod.environment : prod.environment?.name;
    expect(env).toBe("production");
    const steps = stepsOf(prod);
    expect(steps.some((s) => s.run?.includes("scripts/release-cloud-run.sh"))).toBe(true);
    // The very image staging tested is promoted (by digest), not rebuilt.
    expect(steps.some((s) => s.uses?.startsWith("docker/build-push-action@"))).toBe(false);
    expect(runs(prod).join("\n")).toContain("docker buildx imagetools create");
  });

  test("reviewers see the prod plan before they approve, and the approved job applies exactly that plan", () => {
    const plan = job("production-plan");
    // Not behind the approval gate, so it runs (and shows its plan) while the approval waits.
    expect(plan.environment).toBeUndefined();
    expect(plan.needs).toEqual(expect.arrayContaining(["image", "staging"]));
    const planSteps = stepsOf(plan);
    const synth = planSteps.find((s) => s.run?.includes("npx cdktf synth"));
    expect(synth?.env?.SWITCHBOARD_PROD_IMAGE).toBe(gha("steps.image.outputs.image"));
    const saved = planSteps.find((s) => s.run?.includes("terraform plan"));
    expect(saved?.run).toMatch(/terraform plan .*-out=prod\.tfplan/);
    expect(runs(plan).join("\n")).toMatch(/plan-summary\.ts prod .*>> "\$GITHUB_STEP_SUMMARY"/);
    const upload = planSteps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(upload?.with?.name).toBe("prod-plan");
    expect(String(upload?.with?.path)).toContain("cdktf.out/stacks/prod");
    expect(upload?.with?.["include-hidden-files"]).toBe(true); // the stack's .terraform.lock.hcl

    const apply = stepsOf(job("production"));
    const download = apply.findIndex((s) => s.uses?.startsWith("actions/download-artifact@"));
    expect(apply[download]?.with?.name).toBe("prod-plan");
    const applyIndex = apply.findIndex((s) => s.run?.includes("terraform apply"));
    expect(apply[applyIndex]?.run).toMatch(/terraform apply -input=false prod\.tfplan/);
    expect(applyIndex).toBeGreaterThan(download);
    expect(apply.findIndex((s) => s.run?.includes("scripts/release-cloud-run.sh"))).toBeGreaterThan(
      applyIndex,
    );
    // Production is never planned and applied in one go any more.
    expect(runs(job("production")).join("\n")).not.toContain("cdktf deploy");
    expect(job("production").concurrency).toMatchObject({ group: "deploy-production" });
  });

  test("staging and production roll the same image out to the worker too, named by the deploy target", async () => {
    const script = await readFile(join(ROOT, "scripts/release-cloud-run.sh"), "utf8");
    // The positional arguments the workflow passes, in the script's order.
    expect(script).toContain('project="$1" region="$2" service="$3" worker="$4" image="$5" version="$6"');
    for (const [name, environment] of [
      ["staging", "staging"],
      ["production", "prod"],
    ] as const) {
      const steps = stepsOf(job(name));
      const target = steps.findIndex((s) => s.id === "target");
      const release = steps.findIndex((s) => s.run?.includes("scripts/release-cloud-run.sh"));
      expect(steps[target]?.run, name).toContain(`scripts/deploy-target.ts ${environment} `);
      expect(release, name).toBeGreaterThan(target);
      const step = steps[release] as Step;
      expect(step.run?.trim(), name).toBe(
        'scripts/release-cloud-run.sh "$PROJECT_ID" "$REGION" "$SERVICE" "$WORKER_SERVICE" "$IMAGE" "$VERSION"',
      );
      expect(step.env, name).toMatchObject({
        SERVICE: gha("steps.target.outputs.service"),
        WORKER_SERVICE: gha("steps.target.outputs.worker_service"),
      });
      // The environment's URL is where the script smoke-tested: the domain behind the edge.
      expect(job(name).environment).toMatchObject({ url: gha("steps.release.outputs.url") });
    }
    // One digest for both services: staging's build, and in production the digest copied from it.
    expect(stepsOf(job("staging")).find((s) => s.id === "release")?.env?.IMAGE).toBe(
      gha("needs.image.outputs.image"),
    );
    expect(stepsOf(job("production")).find((s) => s.id === "release")?.env?.IMAGE).toBe(
      gha("needs.production-plan.outputs.image"),
    );
  });

  test("a re-run reuses the image its commit already pushed instead of rebuilding under the immutable tag", () => {
    const steps = stepsOf(job("image"));
    const existing = steps.findIndex((s) => s.run?.includes("scripts/image-digest.sh"));
    const push = steps.findIndex((s) => s.uses?.startsWith("docker/build-push-action@"));
    expect(existing).toBeGreaterThan(-1);
    expect(existing).toBeLessThan(push);
    expect(steps[existing]?.id).toBe("existing");
    for (const s of steps.filter((x) => /docker\/(login|setup-buildx|build-push)/.test(x.uses ?? ""))) {
      expect(s.if, s.uses).toBe("steps.existing.outputs.digest == ''");
    }
    const outputs = (get("deploy.yml").jobs.image as Job & { outputs?: Record<string, string> }).outputs;
    expect(outputs?.image).toContain("steps.existing.outputs.digest || steps.push.outputs.digest");
    // Promotion to prod checks the tag too (same digest: skip; another digest: fail).
    expect(runs(job("production")).join("\n")).toContain("scripts/image-digest.sh");
  });

  test("applies never overlap: one concurrency group per stack, never cancelling a running apply", () => {
    const groups = new Set<string>();
    for (const name of ["staging", "production"]) {
      const c = job(name).concurrency;
      expect(typeof c).toBe("object");
      const { group, "cancel-in-progress": cancel } = c as { group: string; "cancel-in-progress"?: boolean };
      expect(group).toMatch(/^deploy-/);
      expect(group).not.toContain(gha("github.sha"));
      expect(cancel).toBe(false);
      groups.add(group);
    }
    expect(groups.size).toBe(2);
    // Every cdktf deploy sits in a job with a concurrency group.
    for (const [name, j] of jobsOf(get("deploy.yml"))) {
      if (runs(j).some((r) => r.includes("cdktf deploy"))) expect(j.concurrency, name).toBeDefined();
    }
  });
});

describe("drift.yml (scheduled drift detection)", () => {
  const wf = () => get("drift.yml");

  test("runs daily on a schedule and on demand, nothing else", () => {
    expect(Object.keys(wf().on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    const crons = (wf().on.schedule as { cron: string }[]).map((s) => s.cron);
    expect(crons).toHaveLength(1);
    // minute hour * * *: once a day.
    expect(crons[0]).toMatch(/^\d{1,2} \d{1,2} \* \* \*$/);
    expect(wf().concurrency?.["cancel-in-progress"]).toBe(false);
  });

  test("plans every environment as the read-only plan identity, without the state lock", () => {
    const plan = wf().jobs.plan as Job;
    expect(plan.strategy?.matrix?.stack).toEqual(["dev", "staging", "prod"]);
    expect(plan.env?.TF_CLI_ARGS_plan).toContain("-lock=false");
    expect(
      stepsOf(plan)
        .filter(isAuth)
        .map((s) => s.with?.service_account),
    ).toEqual([gha("vars.GCP_PLAN_SERVICE_ACCOUNT")]);
    expect(workflows.get("drift.yml")?.raw).not.toContain("GCP_DEPLOY_SERVICE_ACCOUNT");
    const steps = stepsOf(plan);
    const state = steps.findIndex((s) => s.run?.includes("scripts/state-exists.sh"));
    const diff = steps.findIndex((s) => s.id === "diff");
    expect(state).toBeGreaterThan(-1);
    expect(state).toBeLessThan(diff);
    expect(steps[diff]?.run).toMatch(/npx cdktf diff "\$STACK"/);
    expect(steps[diff]?.if).toBe("steps.state.outputs.exists == 'true'");
    expect(runs(plan).join("\n")).toContain("scripts/drift-report.ts");
  });

  test("only the issue job may write issues, and it holds no cloud credentials", () => {
    for (const [name, job] of jobsOf(wf())) {
      const perms = job.permissions as Record<string, string>;
      expect(perms.issues === "write", name).toBe(name === "issues");
    }
    const issues = wf().jobs.issues as Job;
    expect(issues.permissions).toEqual({ issues: "write" });
    expect(stepsOf(issues).some(isAuth)).toBe(false);
    expect(issues.needs).toBe("plan");
    expect(issues.if).toBe("always()");
  });

  test("keeps one issue per environment: opened or updated while the plan is not empty, closed when clean", async () => {
    const { driftMarker } = await import("../../scripts/drift-report");
    const script = String(
      stepsOf(wf().jobs.issues as Job).find((s) => s.uses?.startsWith("actions/github-script@"))?.with
        ?.script,
    );
    // The workflow finds each issue by the very marker the report writes.
    expect(script).toContain(`<!-- switchboard:drift:${"$"}{stack} -->`);
    expect(driftMarker("prod")).toBe("<!-- switchboard:drift:prod -->");
    for (const stack of ["dev", "staging", "prod"]) expect(script).toContain(`"${stack}"`);
    for (const call of ["issues.create(", "issues.update(", "issues.createComment(", 'state: "closed"']) {
      expect(script).toContain(call);
    }
    expect(script).toMatch(/report\.status === "clean" && issue/);
    expect(script).toMatch(/report\.status === "drift" \|\| report\.status === "failed"/);
  });
});
