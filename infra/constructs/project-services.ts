import { ProjectService } from "@cdktf/provider-google/lib/project-service";
import { Construct } from "constructs";

export interface ProjectServicesProps {
  readonly projectId: string;
  /** API hostnames to enable, e.g. `run.googleapis.com`. Duplicates are ignored. */
  readonly apis: readonly string[];
}

/**
 * Enables every API the stack uses. `disable_on_destroy` is false: destroying one stack must never switch
 * off an API something else in the project depends on (guardrail SB_API_KEEP_ON_DESTROY).
 */
export class ProjectServices extends Construct {
  /** The enabled services, for `dependsOn` of everything that calls them. */
  readonly services: readonly ProjectService[];

  constructor(scope: Construct, id: string, props: ProjectServicesProps) {
    super(scope, id);
    const apis = [...new Set(props.apis)].sort();
    this.services = apis.map(
      (api) =>
        new ProjectService(this, api.replace(/\.googleapis\.com$/, ""), {
          project: props.projectId,
          service: api,
          disableOnDestroy: false,
          disableDependentServices: false,
        }),
    );
  }
}
