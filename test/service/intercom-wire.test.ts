import { describe, expect, test } from "vitest";
import {
  contactIdFromWire,
  conversationFromWire,
  partsFromWire,
} from "../../service/src/ports/intercom-wire";

/** Intercom's conversation JSON (GET /conversations/{id}?display_as=plaintext, or a webhook's data.item). */
const conversation = {
  type: "conversation",
  id: 1234,
  created_at: 1_700_000_000,
  updated_at: 1_700_000_500,
  waiting_since: 1_700_000_400,
  open: true,
  state: "open",
  admin_assignee_id: 991,
  source: { id: "src-1", body: "My invoice is wrong", author: { type: "user", id: "u-7" } },
  contacts: { type: "contact.list", contacts: [{ type: "contact", id: "contact-7" }] },
  conversation_parts: {
    type: "conversation_part.list",
    conversation_parts: [
      {
        id: "p-1",
        part_type: "comment",
        body: "Let me check",
        created_at: 1_700_000_100,
        author: { type: "admin", id: "991" },
      },
      {
        id: "p-2",
        part_type: "assignment",
        body: null,
        created_at: 1_700_000_200,
        author: { type: "bot", id: "1" },
      },
      { part_type: "comment", body: "no id: dropped", author: { type: "user", id: "u-7" } },
    ],
  },
};

describe("Intercom's conversation JSON, mapped once for the adapter and the webhook", () => {
  test("the first message, then the parts with an id, oldest first", () => {
    expect(partsFromWire(conversation)).toEqual([
      {
        id: "src-1",
        partType: "source",
        body: "My invoice is wrong",
        authorType: "user",
        authorId: "u-7",
        createdAt: 1_700_000_000,
      },
      {
        id: "p-1",
        partType: "comment",
        body: "Let me check",
        authorType: "admin",
        authorId: "991",
        createdAt: 1_700_000_100,
      },
      {
        id: "p-2",
        partType: "assignment",
        body: "",
        authorType: "bot",
        authorId: "1",
        createdAt: 1_700_000_200,
      },
    ]);
  });

  test("the conversation: open, assignee, customer, waiting and updated times", () => {
    expect(conversationFromWire(conversation)).toMatchObject({
      id: "1234",
      open: true,
      adminAssigneeId: "991",
      contactId: "contact-7",
      waitingSince: 1_700_000_400,
      updatedAt: 1_700_000_500,
    });
    expect(conversationFromWire({ id: 5, state: "closed" })).toMatchObject({
      open: false,
      adminAssigneeId: null,
      contactId: null,
      waitingSince: null,
      parts: [],
    });
  });

  test("a source without an id is named after the conversation; no contacts, no customer", () => {
    const item = { id: "c9", source: { body: "hello", author: { type: "lead", id: "l1" } } };
    expect(partsFromWire(item).map((p) => p.id)).toEqual(["source-c9"]);
    expect(contactIdFromWire(item)).toBeNull();
  });
});
