/**
 * Twilio's webhooks are `application/x-www-form-urlencoded`. Decoding follows the form rules (`+` is a
 * space, `%2B` a plus), which is also how Twilio signs: over the decoded values, never the encoded bytes.
 */
export type FormFields = ReadonlyMap<string, readonly string[]>;

/** Every field of the body with all its values, in the order received. */
export function parseForm(body: Uint8Array): FormFields {
  const fields = new Map<string, string[]>();
  const text = new TextDecoder("utf-8").decode(body);
  for (const [key, value] of new URLSearchParams(text)) {
    const values = fields.get(key);
    if (values) values.push(value);
    else fields.set(key, [value]);
  }
  return fields;
}

/** The first value of a field, or undefined when absent. */
export function field(fields: FormFields, name: string): string | undefined {
  return fields.get(name)?.[0];
}
