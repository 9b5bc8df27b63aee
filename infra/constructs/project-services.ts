import { ProjectService } from "@cdktf/provider-google/lib/project-service";
import { dependable, TerraformResource } from "cdktf";
import { Construct, type IConstruct } from "constructs";

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

  /**
   * Make every other resource under `scope` wait for these APIs. Enabling an API is eventually consistent,
   * and with `user_project_override` every call (IAM, billing, storage …) is billed to the project whose
   * APIs these are, so anything created alongside would race the enablement. Call it last, once the stack
   * holds all its resources.
   */
  gate(scope: IConstruct): void {
    const services = this.services.map((s) => dependable(s));
    for (const node of scope.node.findAll()) {
      if (node instanceof TerraformResource && !this.services.includes(node as ProjectService)) {
        node.dependsOn = [...new Set([...(node.dependsOn ?? []), ...services])];
      }
    }
  }
}
