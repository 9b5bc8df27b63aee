import { parsePhoneNumberFromString } from "libphonenumber-js/min";

/**
 * A phone number in E.164 (`+15551234567`), the one spelling every provider and table uses; undefined
 * when the input is not a possible number. Numbers without a country code are read as North American
 * (the providers always send E.164; people typing a number into the admin API may not).
 */
export function toE164(input: string): string | undefined {
  const parsed = parsePhoneNumberFromString(input.trim(), "US");
  return parsed?.isPossible() ? parsed.number : undefined;
}
