import { CloudSchedulerJob } from "@cdktf/provider-google/lib/cloud-scheduler-job";
import type { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { ScheduleSpec } from "../environments";

export interface PollScheduleProps {
  readonly projectId: string;
  readonly region: string;
  /** @default "switchboard-intercom-poll" */
  readonly jobName?: string;
  /** @default "Polls Intercom for conversations the webhooks missed" */
  readonly description?: string;
  readonly spec: ScheduleSpec;
  /** Full URL of the internal endpoint, e.g. `https://…run.app/internal/poll`. */
  readonly targetUrl: string;
  /** Audience of the OIDC token; the service verifies it (INTERNAL_AUDIENCE). */
  readonly audience: string;
  /** The identity the token is minted for (it has run.invoker on the service). */
  readonly invoker: Pick<ServiceAccount, "email">;
  /** How long one call may take. @default "60s" */
  readonly attemptDeadline?: string;
  /** Retries of a failed call (with backoff). @default 1 */
  readonly retryCount?: number;
  /**
   * Resources creating the job needs that it does not reference, e.g. the deployer's actAs on the invoker
   * (a job that mints an account's tokens may only be created by someone who may act as it). @default []
   */
  readonly dependsOn?: readonly ITerraformDependable[];
}

/**
 * Cloud Scheduler calls an internal endpoint (`POST`, `{}`) with a Google-signed OIDC token
 * (https://cloud.google.com/scheduler/docs/http-target-auth). By default the Intercom poll: the safety
 * net that picks up conversations a webhook missed, with a short deadline and one retry because the next
 * tick polls again anyway. The retention purge reuses it with a longer deadline and more retries.
 */
export class PollSchedule extends Construct {
  readonly job: CloudSchedulerJob;

  constructor(scope: Construct, id: string, props: PollScheduleProps) {
    super(scope, id);
    this.job = new CloudSchedulerJob(this, "job", {
      project: props.projectId,
      region: props.region,
      name: props.jobName ?? "switchboard-intercom-poll",
      description: props.description ?? "Polls Intercom for conversations the webhooks missed",
      schedule: props.spec.schedule,
      timeZone: "Etc/UTC",
      paused: props.spec.paused,
      attemptDeadline: props.attemptDeadline ?? "60s",
      retryConfig: {
        retryCount: props.retryCount ?? 1,
        minBackoffDuration: "10s",
        maxBackoffDuration: "30s",
      },
      httpTarget: {
        uri: props.targetUrl,
        httpMethod: "POST",
        headers: { "Content-Type": "application/json" },
        body: Buffer.from("{}").toString("base64"),
        oidcToken: { serviceAccountEmail: props.invoker.email, audience: props.audience },
      },
      ...(props.dependsOn?.length ? { dependsOn: [...props.dependsOn] } : {}),
    });
  }
}
