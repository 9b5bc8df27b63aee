/**
 * Where an environment deploys, from the same site configuration the infrastructure reads (infra/site.json
 * or SWITCHBOARD_* variables; never the shipped example): printed as `key=value` lines for $GITHUB_OUTPUT,
 * with the bucket and object of its Terraform state.
 *
 *   npx tsx scripts/deploy-target.ts <dev|staging|prod> >> "$GITHUB_OUTPUT"
 */
import { pathToFileURL } from "node:url";
import {
  ENVIRONMENT_NAMES,
  type EnvironmentName,
  loadSite,
  type Site,
  SiteConfigError,
  stateObject,
} from "../infra/site";

// The names the platform stack gives the two Cloud Run services (infra/stacks/platform-stack.ts SERVICE_NAME
// and WORKER_SERVICE_NAME) and the Artifact Registry repository (infra/constructs/artifact-registry.ts
// default repositoryId).
export const SERVICE_NAME = "switchboard";
export const WORKER_SERVICE_NAME = "switchboard-worker";
export const REPOSITORY_ID = "switchboard";
export const IMAGE_NAME = "service";

export interface DeployTarget {
  readonly environment: EnvironmentName;
  readonly projectId: string;
  readonly region: string;
  readonly service: string;
  /** The internal worker: every release rolls the same image out to it too (scripts/release-cloud-run.sh). */
  readonly workerService: string;
  /** `REGION-docker.pkg.dev`: the host docker logs in to. */
  readonly registryHost: string;
  /** `REGION-docker.pkg.dev/PROJECT/REPO/IMAGE`, without tag or digest. */
  readonly image: string;
}

export function deployTarget(site: Site, environment: EnvironmentName): DeployTarget {
  const projectId = site.environments[environment].projectId;
  const registryHost = `${site.region}-docker.pkg.dev`;
  return {
    environment,
    projectId,
    region: site.region,
    service: SERVICE_NAME,
    workerService: WORKER_SERVICE_NAME,
    registryHost,
    image: `${registryHost}/${projectId}/${REPOSITORY_ID}/${IMAGE_NAME}`,
  };
}

/** The `key=value` lines for $GITHUB_OUTPUT. */
export function targetOutputs(site: Site, environment: EnvironmentName): string {
  const t = deployTarget(site, environment);
  return [
    `project_id=${t.projectId}`,
    `region=${t.region}`,
    `service=${t.service}`,
    `worker_service=${t.workerService}`,
    `registry_host=${t.registryHost}`,
    `image=${t.image}`,
    // The environment's Terraform state object: plans check it exists before planning.
    `state_bucket=${site.stateBucket}`,
    `state_object=${stateObject(environment)}`,
    "",
  ].join("\n");
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) {
  const name = process.argv[2] as EnvironmentName | undefined;
  if (!name || !ENVIRONMENT_NAMES.includes(name)) {
    console.error(`usage: deploy-target <${ENVIRONMENT_NAMES.join("|")}>`);
    process.exit(2);
  }
  let site: Site;
  try {
    site = loadSite();
  } catch (error) {
    if (!(error instanceof SiteConfigError)) throw error;
    // The site names the projects CI deploys to; without it there is nothing safe to guess.
    console.error(error.message);
    process.exit(1);
  }
  process.stdout.write(targetOutputs(site, name));
}
