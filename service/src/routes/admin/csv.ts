/**
 * CSV for spreadsheets (RFC 4180): every cell quoted, quotes doubled. A cell a spreadsheet would run as a
 * formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return: OWASP's CSV injection list) is
 * prefixed with `'`, so a customer who typed `=HYPERLINK(…)` as their name cannot run anything on the
 * tenant's machine. E.164 numbers start with `+` and get the prefix too: the spreadsheet shows them as
 * text, with their `+`.
 */
export function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? "" : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function csvRow(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(",")}\r\n`;
}
