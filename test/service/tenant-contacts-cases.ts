import { expect } from "vitest";
import * as contacts from "../../service/src/db/contacts";
import { SHARED } from "./tenant-fixtures";
import type { IsolationCase } from "./tenant-repository-cases";

/**
 * The isolation cases of the contacts, extractions and leads repository functions (issue 14), run like
 * those of tenant-repository-cases.ts: inside tenant A's scope with B's ids and the handles both tenants'
 * customer shares.
 */
export const CONTACTS_CASES: Record<string, IsolationCase> = {
  "contacts.mergeContact": {
    // The phone both tenants know: A's contact is found (and B's, with the same number, untouched).
    run: ({ sql }) => contacts.mergeContact(sql, { phone: SHARED.phone, channel: "sms" }),
    check: (r, { a }) => expect((r as { id: string; mergedIds: string[] }).id).toBe(a.smsContactId),
  },
};
