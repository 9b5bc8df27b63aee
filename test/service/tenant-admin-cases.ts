import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { appendAudit, listAudit } from "../../service/src/db/audit";
import * as channels from "../../service/src/db/channels";
import { getDocument } from "../../service/src/db/knowledge";
import { identityLimitKey, tenantLimitKey } from "../../service/src/db/rate-limits";
import * as users from "../../service/src/db/tenant-users";
import { usageByDay } from "../../service/src/db/usage-report";
import { SHARED } from "./tenant-fixtures";
import type { IsolationCase } from "./tenant-repository-cases";

/**
 * The isolation cases of the admin API's repository functions (audit log, channels, tenant users, usage
 * report, documents), run like those of tenant-repository-cases.ts: inside tenant A's scope with B's ids.
 */

const nothing = (result: unknown) => expect(result).toBeUndefined();
const bAdmin = "bravo-admin";

export const ADMIN_READS: Record<string, IsolationCase> = {
  "audit.listAudit": {
    // Unfiltered and filtered on B's id and B's admin: only A's rows, and none when naming B.
    run: async ({ sql, b }) => ({
      all: await listAudit(sql, { limit: 100 }),
      named: await listAudit(sql, { tenantId: b.id, limit: 100 }),
      byActor: await listAudit(sql, { actor: bAdmin, limit: 100 }),
    }),
    check: (r, { a }) => {
      const { all, named, byActor } = r as Record<string, { tenantId: string }[]>;
      expect(all?.length).toBeGreaterThan(0);
      expect(all?.every((row) => row.tenantId === a.id)).toBe(true);
      expect({ named, byActor }).toEqual({ named: [], byActor: [] });
    },
  },
  "channels.listChannels": {
    run: ({ sql }) => channels.listChannels(sql),
    check: (r, { a }) =>
      expect((r as { id: string }[]).map((c) => c.id).sort()).toEqual(
        [a.channelConnectionId, a.mailboxConnectionId].sort(),
      ),
  },
  "channels.findChannel": {
    run: ({ sql, b }) => channels.findChannel(sql, b.channelConnectionId),
    check: nothing,
  },
  "knowledge.getDocument": {
    run: async ({ sql, b }) => ({
      own: await getDocument(sql, b.ownDocumentSlug),
      shared: await getDocument(sql, SHARED.documentSlug),
    }),
    check: (r) => {
      const { own, shared } = r as { own: unknown; shared: { body: string } };
      expect({ own, body: shared.body }).toEqual({ own: undefined, body: "alpha body" });
    },
  },
  "rate-limits.tenantLimitKey": {
    // rate_limit_windows has no tenant: the key itself must name A, so A never counts in B's window.
    run: async () => tenantLimitKey(identityLimitKey(SHARED.userIdentity)),
    check: (r, { a }) => expect(r).toBe(`${a.id}:${identityLimitKey(SHARED.userIdentity)}`),
  },
  "tenant-users.tenantUserRole": {
    run: ({ sql }) => users.tenantUserRole(sql, bAdmin),
    check: nothing,
  },
  "tenant-users.listTenantUsers": {
    run: ({ sql }) => users.listTenantUsers(sql),
    check: (r, { a }) => expect((r as { id: string }[]).map((u) => u.id)).toEqual([a.tenantUserId]),
  },
  "usage-report.usageByDay": {
    run: ({ sql }) => usageByDay(sql, { from: "2000-01-01", to: "2100-01-01" }),
    check: async (r, ctx) => {
      // Both tenants were seeded alike: a leak would double the count.
      const requests = (r as { requests: number }[]).reduce((n, row) => n + row.requests, 0);
      expect(requests).toBe(await ctx.countOfA("usage_ledger"));
      expect(requests).toBeGreaterThan(0);
    },
  },
};

export const ADMIN_WRITES: Record<string, IsolationCase> = {
  "audit.appendAudit": {
    run: ({ sql, b }) =>
      appendAudit(sql, { actor: "alpha-admin", role: "tenant_admin", action: "alpha.case", target: b.slug }),
    check: async (_r, ctx) => expect(await ctx.countOfA("audit_log", "action = 'alpha.case'")).toBe(1),
  },
  "channels.insertChannel": {
    run: ({ sql, b }) =>
      channels.insertChannel(sql, {
        id: randomUUID(),
        kind: "intercom",
        publicId: b.channelPublicId,
        settings: {},
      }),
    mayRefuse: "a channel's public id is unique across tenants (the admin API answers 409)",
  },
  "channels.setChannelSecretRefs": {
    run: ({ sql, b }) =>
      channels.setChannelSecretRefs(sql, b.channelConnectionId, { token: "db-secret:alpha" }),
    check: nothing,
  },
  "channels.deleteChannel": {
    run: ({ sql, b }) => channels.deleteChannel(sql, b.channelConnectionId),
    check: nothing,
  },
  "tenant-users.addTenantUser": {
    // B's subject becomes one of A's users (a person may belong to two tenants), never B's row.
    run: async ({ sql }) => {
      const added = await users.addTenantUser(sql, { subject: bAdmin, role: "agent" });
      return added && { id: added.id, role: added.role };
    },
    check: async (r, ctx) => {
      expect(r).toMatchObject({ role: "agent" });
      expect(await ctx.countOfA("tenant_users", `subject = '${bAdmin}'`)).toBe(1);
    },
  },
  "tenant-users.changeTenantUserRole": {
    run: ({ sql, b }) => users.changeTenantUserRole(sql, b.tenantUserId, "agent"),
    check: nothing,
  },
  "tenant-users.removeTenantUser": {
    run: ({ sql, b }) => users.removeTenantUser(sql, b.tenantUserId),
    check: nothing,
  },
};
