import type { BusinessHours } from "../../domain/business-hours";
import type { ReplyConnection } from "./connections";
import type { SmsSettings } from "./settings";

/** One SMS conversation as a turn sees it: the customer, the tenant's number they texted, the settings. */
export interface SmsView {
  /** The customer's number (E.164): the conversation's id within the tenant. */
  customer: string;
  /** Their contact record in the tenant. */
  contactId: string;
  /** The tenant's number the latest text arrived at, which answers; undefined when it was disconnected. */
  connection: ReplyConnection | undefined;
  settings: SmsSettings;
  /** When the tenant's team works: what a handoff notice promises. */
  hours: BusinessHours;
}
