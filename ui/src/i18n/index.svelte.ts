/** The two message tables, the current locale, and `t`. */
import { en, type MessageKey } from "./en";
import { zhCN } from "./zh-CN";

/** Languages Parley speaks. */
export type Locale = "en" | "zh-CN";

/** Every table by locale. */
export const TABLES: Record<Locale, Record<MessageKey, string>> = { en, "zh-CN": zhCN };

/** Picks a supported locale for a BCP 47 tag (anything Chinese reads zh-CN). */
export function matchLocale(tag: string | null | undefined): Locale | null {
  if (!tag) return null;
  const lower = tag.toLowerCase();
  if (lower.startsWith("zh")) return "zh-CN";
  if (lower.startsWith("en")) return "en";
  return null;
}

/** Fills `{name}` placeholders. */
export function format(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in params ? String(params[key]) : whole,
  );
}

const state = $state<{ locale: Locale }>({ locale: "en" });

/** The current locale (reactive). */
export function locale(): Locale {
  return state.locale;
}

/** Switches the language everywhere, including `<html lang>`. */
export function setLocale(next: Locale): void {
  state.locale = next;
  if (typeof document !== "undefined") document.documentElement.lang = next;
}

/** Translates a key in the current locale (reactive in templates). */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  return format(TABLES[state.locale][key], params);
}

export type { MessageKey };

/** True if `key` names a message (for keys built at run time, e.g. from error codes). */
export function hasMessage(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}
