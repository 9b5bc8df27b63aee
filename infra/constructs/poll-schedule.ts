import { CloudSchedulerJob } from "@cdktf/provider-google/lib/cloud-scheduler-job";
import { Construct } from "constructs";
import type { PollingSpec } from "../environments";

export interface PollScheduleProps {
  readonly projectId: string;
  readonly region: string;
  /** @default "switchboard-intercom-poll" */
  readonly jobName?: string;
  readonly spec: PollingSpec;
  /** Full URL of the polling endpoint, e.g. `https://…run.app/internal/poll`. */
  readonly targetUrl: string;
  /** Audience of the OIDC token; the service verifies it (INTERNAL_AUDIENCE). */
  readonly audience: string;
  /** E-mail of the identity the token is minted for (has run.invoker on the service). */
  readonly invokerEmail: string;
}

/**
 * Cloud Scheduler calls `POST /internal/poll` with a Google-signed OIDC token: the safety net that picks
 * up Intercom conversations a webhook missed. The attempt deadline is short and retries few because the
 * next tick polls again anyway. https://cloud.google.com/scheduler/docs/http-target-auth
 */
export class PollSchedule extends Construct {
  readonly job: CloudSchedulerJob;

  constructor(scope: Construct, id: string, props: PollScheduleProps) {
    super(scope, id);
    this.job = new CloudSchedulerJob(this, "job", {
      project: props.projectId,
      region: props.region,
      name: props.jobName ?? "switchboard-intercom-poll",
      description: "Polls Intercom for conversations the webhooks missed",
      schedule: props.spec.schedule,
      timeZone: "Etc/UTC",
      paused: props.spec.paused,
      attemptDeadline: "60s",
      retryConfig: { retryCount: 1, minBackoffDuration: "10s", maxBackoffDuration: "30s" },
      httpTarget: {
        uri: props.targetUrl,
        httpMethod: "POST",
        headers: { "Content-Type": "application/json" },
        body: Buffer.from("{}").toString("base64"),
        oidcToken: { serviceAccountEmail: props.invokerEmail, audience: props.audience },
      },
    });
  }
}
