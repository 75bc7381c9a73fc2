import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff";

describe("backoffDelay", () => {
  const opts = { baseMs: 500, maxMs: 10_000 };

  it("grows exponentially up to the cap at the top of the jitter range", () => {
    const top = () => 0.999999;
    const delays = [0, 1, 2, 3, 4, 5, 6, 30].map((n) => backoffDelay(n, opts, top));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it("keeps a small floor at the bottom of the jitter range", () => {
    expect(backoffDelay(0, opts, () => 0)).toBe(50);
    expect(backoffDelay(10, opts, () => 0)).toBe(50);
  });

  it("spreads retries between the floor and the ceiling", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) seen.add(backoffDelay(3, opts));
    for (const d of seen) {
      expect(d).toBeGreaterThanOrEqual(50);
      expect(d).toBeLessThanOrEqual(4000);
    }
    expect(seen.size).toBeGreaterThan(10);
  });
});
