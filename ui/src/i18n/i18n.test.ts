import { describe, expect, it } from "vitest";
import { en } from "./en";
import { format, matchLocale, TABLES } from "./index.svelte";
import { zhCN } from "./zh-CN";

describe("message tables", () => {
  it("have the same keys in both languages", () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
  });

  it("use the same placeholders in both languages, and no empty strings", () => {
    const holes = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const [key, text] of Object.entries(en)) {
      const zh = TABLES["zh-CN"][key as keyof typeof en];
      expect(holes(zh), key).toEqual(holes(text));
      expect(text.length && zh.length, key).toBeGreaterThan(0);
    }
  });

  it("match locales and fill placeholders", () => {
    expect(matchLocale("zh-TW")).toBe("zh-CN");
    expect(matchLocale("en-GB")).toBe("en");
    expect(matchLocale("fr")).toBeNull();
    expect(format("Call {name}", { name: "Ada" })).toBe("Call Ada");
  });
});
