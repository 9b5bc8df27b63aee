import { CloudTasksQueue } from "@cdktf/provider-google/lib/cloud-tasks-queue";
import { CloudTasksQueueIamMember } from "@cdktf/provider-google/lib/cloud-tasks-queue-iam-member";
import type { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import { Construct } from "constructs";
import type { TasksSpec } from "../environments";
import { serviceAccountMember } from "./naming";
import type { ServiceEnvironment, ServiceEnvironmentSource } from "./service-environment";

export interface TaskQueueProps {
  readonly projectId: string;
  readonly region: string;
  /** Queue names cannot be reused for 7 days after deletion. @default "switchboard-outbox" */
  readonly queueName?: string;
  readonly spec: TasksSpec;
  /** The identity that creates tasks (the runtime). */
  readonly enqueuer: Pick<ServiceAccount, "email">;
  /** The identity whose OIDC token each task carries (it may invoke the worker). */
  readonly invoker: Pick<ServiceAccount, "email">;
}

/**
 * The Cloud Tasks queue the service's outbox pushes work through (one task per conversation turn, HTTP
 * target `POST /internal/tasks/outbox/:id` with an OIDC token of the invoker identity). The dispatch rate
 * stays under Gemini's request budget and backoff starts at 10 s and doubles to 10 min, so a 429 from
 * Gemini (retryDelay ~60 s) or Intercom (10-second windows) drains instead of hammering.
 * The services that use it learn the queue and the invoker from it (addToEnvironment).
 * https://cloud.google.com/tasks/docs/configuring-queues
 */
export class TaskQueue extends Construct implements ServiceEnvironmentSource {
  readonly queue: CloudTasksQueue;
  /** `projects/P/locations/L/queues/Q`, the form the Cloud Tasks client takes. */
  readonly queuePath: string;
  /** Queue name as a plain string (known before apply). */
  readonly queueName: string;
  private readonly invoker: Pick<ServiceAccount, "email">;

  constructor(scope: Construct, id: string, props: TaskQueueProps) {
    super(scope, id);
    const name = props.queueName ?? "switchboard-outbox";
    this.queueName = name;
    this.invoker = props.invoker;
    const { spec } = props;
    this.queue = new CloudTasksQueue(this, "queue", {
      project: props.projectId,
      location: props.region,
      name,
      rateLimits: {
        maxDispatchesPerSecond: spec.maxDispatchesPerSecond,
        maxConcurrentDispatches: spec.maxConcurrentDispatches,
      },
      retryConfig: {
        maxAttempts: spec.maxAttempts,
        minBackoff: spec.minBackoff,
        maxBackoff: spec.maxBackoff,
        maxDoublings: 6,
        maxRetryDuration: spec.maxRetryDuration,
      },
      stackdriverLoggingConfig: { samplingRatio: spec.loggingSamplingRatio },
    });
    this.queuePath = `projects/${props.projectId}/locations/${props.region}/queues/${name}`;

    // Enqueue on this queue only, not project-wide.
    new CloudTasksQueueIamMember(this, "enqueuer", {
      project: props.projectId,
      location: props.region,
      name: this.queue.name,
      role: "roles/cloudtasks.enqueuer",
      member: serviceAccountMember(props.enqueuer),
    });
  }

  /** Work that outlives a request goes through this queue, with OIDC tokens of the invoker. */
  addToEnvironment(environment: ServiceEnvironment): void {
    environment
      .set("TASK_QUEUE", "cloud-tasks")
      .set("CLOUD_TASKS_QUEUE", this.queuePath)
      .set("TASKS_INVOKER_SA", this.invoker.email);
  }
}
