import { App } from "cdktf";
import { deploymentFor, type EnvironmentSpec, environments } from "./environments";
import { ENVIRONMENT_NAMES, type EnvironmentName, type Site } from "./site";
import { BootstrapStack } from "./stacks/bootstrap-stack";
import { PlatformStack } from "./stacks/platform-stack";

export interface BuildAppOptions {
  readonly site: Site;
  /** @default "cdktf.out" (or CDKTF_OUTDIR when the cdktf CLI runs the app) */
  readonly outdir?: string;
  /** Environment data overrides (tests). @default environments */
  readonly environments?: Readonly<Record<EnvironmentName, EnvironmentSpec>>;
  /** Write HCL instead of JSON (`cdktf synth --hcl` sets it through the CLI). */
  readonly hclOutput?: boolean;
}

export interface SwitchboardApp {
  readonly app: App;
  readonly bootstrap: BootstrapStack;
  readonly platforms: Readonly<Record<EnvironmentName, PlatformStack>>;
}

/** The whole app: the bootstrap stack and one platform stack per environment, ids = stack names. */
export function buildApp(options: BuildAppOptions): SwitchboardApp {
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    ...(options.hclOutput !== undefined ? { hclOutput: options.hclOutput } : {}),
  });
  const specs = options.environments ?? environments;
  const bootstrap = new BootstrapStack(app, "bootstrap", { site: options.site });
  const platforms = Object.fromEntries(
    ENVIRONMENT_NAMES.map((name) => [
      name,
      new PlatformStack(app, name, { deployment: deploymentFor(name, options.site, specs[name]) }),
    ]),
  ) as Record<EnvironmentName, PlatformStack>;
  return { app, bootstrap, platforms };
}
