import { BillingBudget } from "@cdktf/provider-google/lib/billing-budget";
import { Construct } from "constructs";

export interface BudgetProps {
  readonly billingAccount: string;
  /** Project number (budgets filter on `projects/<number>`). */
  readonly projectNumber: string;
  readonly displayName: string;
  /** Monthly amount in the billing account's currency (USD for most accounts; the name predates that). */
  readonly monthlyUsd: number;
  /** Fractions of the budget that notify. @default [0.5, 0.8, 1.0] */
  readonly thresholds?: readonly number[];
  /** Monitoring channels notified at each threshold (at most 5). */
  readonly notificationChannelIds: readonly string[];
}

/**
 * A monthly billing budget on the environment's project, alerting at 50, 80 and 100 % of actual spend and
 * at 100 % of forecast spend. https://cloud.google.com/billing/docs/how-to/budgets
 */
export class Budget extends Construct {
  readonly budget: BillingBudget;

  constructor(scope: Construct, id: string, props: BudgetProps) {
    super(scope, id);
    const thresholds = props.thresholds ?? [0.5, 0.8, 1.0];
    this.budget = new BillingBudget(this, "budget", {
      billingAccount: props.billingAccount,
      displayName: props.displayName,
      budgetFilter: {
        projects: [`projects/${props.projectNumber}`],
        calendarPeriod: "MONTH",
        creditTypesTreatment: "INCLUDE_ALL_CREDITS",
      },
      // No currency code: the budget takes the billing account's currency, and the API refuses any other.
      amount: { specifiedAmount: { units: String(Math.round(props.monthlyUsd)) } },
      thresholdRules: [
        ...thresholds.map((t) => ({ thresholdPercent: t, spendBasis: "CURRENT_SPEND" })),
        { thresholdPercent: 1.0, spendBasis: "FORECASTED_SPEND" },
      ],
      allUpdatesRule: {
        monitoringNotificationChannels: props.notificationChannelIds.slice(0, 5),
        disableDefaultIamRecipients: false,
      },
    });
  }
}
