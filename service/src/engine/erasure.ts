import { createHmac, hkdfSync } from "node:crypto";
import type { Sql } from "../db/client";
import { type ErasedContact, type ErasureCounts, eraseSubject } from "../db/erasure";
import type { Logger } from "../logger";
import type { DispatchAfterCommit, OutboundEvents } from "./follow-up";

/**
 * The key of erasure references, derived from the session signing key (a server secret that production
 * requires) for this one purpose, so the signing key itself never hashes anything else. Rotating the
 * signing key makes older references unmatchable: they become anonymous.
 */
export function erasureKey(sessionSigningKey: string): Buffer {
  return Buffer.from(hkdfSync("sha256", sessionSigningKey, "", "switchboard/erasure-subject/v1", 32));
}

/**
 * A reference to an erased person that reveals nothing without the server key: with it, and only with it,
 * one can check whether a given external id was erased (a repeated request, a regulator's question), which
 * a record with no reference at all could not answer. Still pseudonymous data while the key exists.
 */
export function subjectReference(key: Buffer, externalId: string): string {
  return createHmac("sha256", key).update(`external-id:${externalId}`).digest("hex");
}

export interface PersonErasure {
  externalId: string;
  /** The ids this person signed in with (`user:<sub>`, and under each accepted issuer). */
  userIdentityIds: readonly string[];
  /** The person's Intercom contact, when Intercom knows them (already deleted there). */
  contactId: string | null;
  /** The person's phone number (E.164), when they texted a tenant's number. */
  phone?: string | null | undefined;
  /** The person's e-mail address (lower-case). */
  email?: string | null | undefined;
  /** The person's contacts (contacts.id). */
  contactIds?: readonly string[] | undefined;
  actor: string;
  requestId: string;
}

/**
 * Erases everything kept here of one person and leaves the record and a log line, neither naming them.
 * With `events`, a `contact.erased` event per erased contact (its id and the handles it had, so the
 * tenant's CRM can erase the person too) is recorded in the erasure's transaction, and dispatched after.
 */
export async function erasePerson(
  deps: { sql: Sql; key: Buffer; log: Logger; events?: OutboundEvents | undefined },
  person: PersonErasure,
): Promise<{ counts: ErasureCounts; erasureId: string | null; contacts: ErasedContact[] }> {
  const identityIds = [...person.userIdentityIds];
  if (person.contactId) identityIds.push(`intercom:${person.contactId}`);
  const subjectRef = subjectReference(deps.key, person.externalId);
  const dispatches: DispatchAfterCommit[] = [];
  const events = deps.events;
  const result = await eraseSubject(
    deps.sql,
    {
      identityIds,
      contactId: person.contactId,
      phone: person.phone ?? null,
      email: person.email ?? null,
      contactIds: person.contactIds,
    },
    {
      actor: person.actor,
      requestId: person.requestId,
      subjectRef,
      deletedUpstream: person.contactId !== null,
    },
    events
      ? async (tx, erased) => {
          for (const data of erasedEvents(erased.contacts, person)) {
            dispatches.push(
              await events.record(tx, { type: "contact.erased", orderingKey: data.contactId, data }),
            );
          }
        }
      : undefined,
  );
  for (const dispatch of dispatches) await dispatch();
  if (result.erasureId) {
    deps.log.info(
      { event: "gdpr.erasure", erasureId: result.erasureId, actor: person.actor, counts: result.counts },
      "personal data erased",
    );
  }
  return result;
}

/** One event per erased contact; none kept, the handles the request named (an SMS thread without one). */
function erasedEvents(contacts: readonly ErasedContact[], person: PersonErasure) {
  if (contacts.length > 0) {
    return contacts.map((c) => ({
      contactId: c.id,
      handles: { phone: c.phone, email: c.email, intercomContactId: c.intercomContactId },
    }));
  }
  return [
    {
      contactId: null,
      handles: {
        phone: person.phone ?? null,
        email: person.email ?? null,
        intercomContactId: person.contactId,
      },
    },
  ];
}
