import { MonitoringNotificationChannel } from "@cdktf/provider-google/lib/monitoring-notification-channel";
import { Construct } from "constructs";

export interface NotificationChannelsProps {
  readonly projectId: string;
  readonly emails: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/** E-mail notification channels for alert policies and budgets, one per address. */
export class NotificationChannels extends Construct {
  /** Channel ids (`projects/…/notificationChannels/…`). */
  readonly channelIds: readonly string[];

  constructor(scope: Construct, id: string, props: NotificationChannelsProps) {
    super(scope, id);
    this.channelIds = props.emails.map(
      (email) =>
        new MonitoringNotificationChannel(this, `email-${email.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`, {
          project: props.projectId,
          type: "email",
          displayName: `Switchboard on-call (${email})`,
          labels: { email_address: email },
          userLabels: { ...props.labels },
        }).id,
    );
  }
}
