import { PubsubSubscription } from "@cdktf/provider-google/lib/pubsub-subscription";
import { PubsubSubscriptionIamMember } from "@cdktf/provider-google/lib/pubsub-subscription-iam-member";
import { PubsubTopic } from "@cdktf/provider-google/lib/pubsub-topic";
import { PubsubTopicIamMember } from "@cdktf/provider-google/lib/pubsub-topic-iam-member";
import { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import { ServiceAccountIamMember } from "@cdktf/provider-google/lib/service-account-iam-member";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { EmailSpec } from "../environments";
import { GMAIL_PUSH_PUBLISHER, pubsubServiceAgent } from "./naming";
import { PollSchedule } from "./poll-schedule";
import type { ServiceEnvironment, ServiceEnvironmentSource } from "./service-environment";

export interface GmailPushProps {
  readonly projectId: string;
  /** The project's number: Pub/Sub's service agent is `service-<number>@gcp-sa-pubsub…`. */
  readonly projectNumber: string;
  readonly region: string;
  readonly spec: EmailSpec;
  /** Full URL Pub/Sub pushes to: PUBLIC_URL + `/webhooks/email/gmail-push` (through the edge when on). */
  readonly pushEndpoint: string;
  /** The OIDC audience of push requests; the service verifies exactly this value. */
  readonly pushAudience: string;
  /** Full URL of the worker's watch renewal, `…/internal/email/renew-watches`. */
  readonly renewalUrl: string;
  /** Audience of the renewal job's OIDC token (INTERNAL_AUDIENCE). */
  readonly internalAudience: string;
  /** The identity Cloud Scheduler mints tokens for (it has run.invoker on the worker). */
  readonly invoker: Pick<ServiceAccount, "email">;
  /** Needs actAs on the push identity to create a subscription that pushes as it. @default undefined */
  readonly deployerMember?: string;
  /** Grants creating the renewal job needs (the deployer's actAs on the invoker). @default [] */
  readonly schedulerDependsOn?: readonly ITerraformDependable[];
  readonly labels: Readonly<Record<string, string>>;
  /** @default "switchboard" */
  readonly namePrefix?: string;
}

/**
 * Gmail push notifications (issue 15): Gmail publishes `{emailAddress, historyId}` to a topic that only
 * Gmail's publisher identity may publish to; a push subscription delivers each one to the public service
 * with a Google-signed OIDC token of a dedicated identity (no roles: the token only proves who sent it),
 * and after `maxDeliveryAttempts` failures moves it to a dead-letter topic whose subscription keeps it.
 * A daily Scheduler job renews every mailbox's watch before its 7-day expiry.
 *
 * Pub/Sub's service agent gets exactly what the docs ask for: Token Creator on the push identity (to mint
 * the OIDC tokens), publisher on the dead-letter topic and subscriber on the push subscription (to move
 * dead letters); https://cloud.google.com/pubsub/docs/handling-failures#grant_forwarding_permissions.
 */
export class GmailPush extends Construct implements ServiceEnvironmentSource {
  readonly topic: PubsubTopic;
  readonly pushIdentity: ServiceAccount;
  readonly subscription: PubsubSubscription;
  readonly deadLetterTopic: PubsubTopic;
  readonly deadLetterSubscription: PubsubSubscription;
  readonly renewal: PollSchedule;
  /** The audience push tokens carry (a literal: known before anything exists). */
  readonly pushAudience: string;

  constructor(scope: Construct, id: string, props: GmailPushProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? "switchboard";
    const labels = { ...props.labels };
    const agent = pubsubServiceAgent(props.projectNumber);
    const { push } = props.spec;
    this.pushAudience = props.pushAudience;

    this.topic = new PubsubTopic(this, "topic", {
      project: props.projectId,
      name: `${prefix}-gmail-push`,
      labels,
    });
    new PubsubTopicIamMember(this, "gmail-publisher", {
      project: props.projectId,
      topic: this.topic.name,
      role: "roles/pubsub.publisher",
      member: GMAIL_PUSH_PUBLISHER,
    });

    this.pushIdentity = new ServiceAccount(this, "push-identity", {
      project: props.projectId,
      accountId: `${prefix}-gmail-push`,
      displayName: "Switchboard Gmail push (OIDC identity of Pub/Sub push requests)",
    });
    const identityGrants = this.pushIdentityGrants(agent, props.deployerMember);

    this.deadLetterTopic = new PubsubTopic(this, "dead-letter-topic", {
      project: props.projectId,
      name: `${prefix}-gmail-push-dead-letter`,
      labels,
    });
    const deadLetterPublisher = new PubsubTopicIamMember(this, "pubsub-agent-dead-letter-publisher", {
      project: props.projectId,
      topic: this.deadLetterTopic.name,
      role: "roles/pubsub.publisher",
      member: agent,
    });
    // A topic without a subscription drops what is published to it: this one keeps the dead letters.
    this.deadLetterSubscription = new PubsubSubscription(this, "dead-letter-subscription", {
      project: props.projectId,
      name: `${prefix}-gmail-push-dead-letter`,
      topic: this.deadLetterTopic.id,
      ackDeadlineSeconds: 60,
      messageRetentionDuration: push.messageRetention,
      // Subscriptions expire after 31 idle days by default; an empty ttl keeps them.
      expirationPolicy: { ttl: "" },
      labels,
    });

    this.subscription = new PubsubSubscription(this, "push-subscription", {
      project: props.projectId,
      name: `${prefix}-gmail-push`,
      topic: this.topic.id,
      ackDeadlineSeconds: push.ackDeadlineSeconds,
      messageRetentionDuration: push.messageRetention,
      expirationPolicy: { ttl: "" },
      pushConfig: {
        pushEndpoint: props.pushEndpoint,
        oidcToken: { serviceAccountEmail: this.pushIdentity.email, audience: props.pushAudience },
      },
      retryPolicy: { minimumBackoff: push.minimumBackoff, maximumBackoff: push.maximumBackoff },
      deadLetterPolicy: {
        deadLetterTopic: this.deadLetterTopic.id,
        maxDeliveryAttempts: push.maxDeliveryAttempts,
      },
      labels,
      // Not referenced, yet the first push needs the token grant, and creating it needs actAs.
      dependsOn: [...identityGrants, deadLetterPublisher],
    });
    new PubsubSubscriptionIamMember(this, "pubsub-agent-subscriber", {
      project: props.projectId,
      subscription: this.subscription.name,
      role: "roles/pubsub.subscriber",
      member: agent,
    });

    this.renewal = this.renewalJob(props, prefix);
  }

  /**
   * Pub/Sub's service agent mints the push identity's tokens; the CI deployer acts as it to create the
   * subscription that names it. The subscription waits for both.
   */
  private pushIdentityGrants(agent: string, deployerMember: string | undefined): ITerraformDependable[] {
    const tokenCreator = new ServiceAccountIamMember(this, "pubsub-agent-token-creator", {
      serviceAccountId: this.pushIdentity.name,
      role: "roles/iam.serviceAccountTokenCreator",
      member: agent,
      // Pub/Sub's service agent appears with the API's first use, not always the instant it is enabled: a
      // grant to it before the topic exists can fail with "service account does not exist".
      dependsOn: [this.topic],
    });
    if (!deployerMember) return [tokenCreator];
    const deployerActsAs = new ServiceAccountIamMember(this, "deployer-acts-as-push-identity", {
      serviceAccountId: this.pushIdentity.name,
      role: "roles/iam.serviceAccountUser",
      member: deployerMember,
    });
    return [tokenCreator, deployerActsAs];
  }

  /** The daily watch renewal on the worker. */
  private renewalJob(props: GmailPushProps, prefix: string): PollSchedule {
    return new PollSchedule(this, "watch-renewal", {
      projectId: props.projectId,
      region: props.region,
      jobName: `${prefix}-gmail-watch-renewal`,
      description: "Renews every mailbox's Gmail watch (POST /internal/email/renew-watches)",
      spec: props.spec.watchRenewal,
      targetUrl: props.renewalUrl,
      audience: props.internalAudience,
      invoker: props.invoker,
      // It calls the Gmail API once per mailbox: more time, and a retry (renewing twice is harmless).
      attemptDeadline: "300s",
      retryCount: 3,
      ...(props.schedulerDependsOn ? { dependsOn: props.schedulerDependsOn } : {}),
    });
  }

  /**
   * The service learns what it verifies and watches from here: the topic `users.watch` publishes to (the
   * topic's id is `projects/P/topics/T`), and the audience and service account of push requests' OIDC tokens.
   */
  addToEnvironment(environment: ServiceEnvironment): void {
    environment
      .set("GMAIL_PUBSUB_TOPIC", this.topic.id)
      .set("GMAIL_PUSH_AUDIENCE", this.pushAudience)
      .set("GMAIL_PUSH_SERVICE_ACCOUNT", this.pushIdentity.email);
  }
}
