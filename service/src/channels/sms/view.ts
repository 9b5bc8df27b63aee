import type { SmsProvider, SmsProviderClient } from "../../ports/sms";
import type { SmsSettings } from "./settings";

/** The tenant's connection a reply goes out through (a number at Twilio, Telnyx or Voxie). */
export interface SmsConnection {
  id: string;
  /** The tenant's number (E.164): what the customer texted, and what replies come from. */
  phoneNumber: string;
  provider: SmsProvider;
  client: SmsProviderClient;
  /** Where the provider reports delivery; absent: no status callbacks. */
  statusCallbackUrl?: string | undefined;
}

/** A texting conversation for one turn: the customer's number within one tenant. */
export interface SmsView {
  /** The customer (E.164): the conversation's id. */
  phone: string;
  /** The tenant's contact of that number. */
  contactId: string;
  settings: SmsSettings;
  /** The connection the turn's newest message arrived at; undefined when it is gone or disabled. */
  connection: SmsConnection | undefined;
  /** The provider ids of the turn's inbound messages, oldest first: a reply records which it answers. */
  messageIds: string[];
}

/** The inbound message a reply of this turn answers (its newest). */
export const answering = (view: SmsView): string | undefined => view.messageIds.at(-1);
