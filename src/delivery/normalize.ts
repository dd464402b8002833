// Value normalisation for devices and rules alike (docs/CONTRACT.md §2): one definition, so a rule written
// "Canada" matches a device sending "ca". Each function returns the stored form, or undefined if invalid.
import countries from "i18n-iso-countries";
import en from "i18n-iso-countries/langs/en.json" with { type: "json" };

countries.registerLocale(en);

// English names and alpha-2 codes, lower-cased → alpha-2. Built once: the hot path does one Map lookup.
const countryLookup = new Map<string, string>();
for (const [code, names] of Object.entries(countries.getNames("en", { select: "all" }))) {
  countryLookup.set(code.toLowerCase(), code);
  for (const name of names) countryLookup.set(name.toLowerCase(), code);
}

const APP = /^[^\s\p{C}]{1,255}$/u;
const OS = /^[a-z0-9._-]{1,32}$/;

export function normalizeCountry(raw: string): string | undefined {
  return countryLookup.get(raw.trim().toLowerCase());
}

export function normalizeOs(raw: string): string | undefined {
  const value = raw.trim().toLowerCase();
  return OS.test(value) ? value : undefined;
}

export function normalizeApp(raw: string): string | undefined {
  const value = raw.trim().toLowerCase();
  return APP.test(value) ? value : undefined;
}

/** Campaign and category ids: 1–64 chars, `[a-z0-9][a-z0-9._-]*`. */
export const SLUG = /^[a-z0-9][a-z0-9._-]{0,63}$/;
