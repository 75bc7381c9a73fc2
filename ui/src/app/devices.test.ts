import { describe, expect, it } from "vitest";
import { parseDeviceInfo } from "./devices";

describe("device info", () => {
  it("keeps a well-formed answer and fills optional fields", () => {
    expect(parseDeviceInfo({ id: "d1", name: "Kitchen 厨房", version: 1, app: "0.1.0", os: "linux" })).toEqual({
      id: "d1", name: "Kitchen 厨房", version: 1, app: "0.1.0", os: "linux",
    });
    expect(parseDeviceInfo({ id: "d1", name: "x" })).toEqual({ id: "d1", name: "x", version: 0, app: "", os: "" });
  });

  it("rejects anything else", () => {
    for (const bad of [null, "x", [], { id: 1, name: "x" }, { id: "d" }]) expect(parseDeviceInfo(bad)).toBeNull();
  });
});
