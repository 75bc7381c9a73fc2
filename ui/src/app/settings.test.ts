import { describe, expect, it } from "vitest";
import { callIceServers, DEFAULT_SETTINGS, sanitize, userIceServers } from "./settings";

describe("settings", () => {
  it("keeps known fields and drops the rest", () => {
    const s = sanitize({ name: "Ada", language: "zh-CN", turnUrl: 5, devices: [{ id: "d", name: "Lap", address: "10.0.0.2:7878" }, { id: 1 }], evil: "x" });
    expect(s).toEqual({ ...DEFAULT_SETTINGS, name: "Ada", language: "zh-CN", devices: [{ id: "d", name: "Lap", address: "10.0.0.2:7878" }] });
    expect(sanitize("garbage")).toEqual(DEFAULT_SETTINGS);
  });

  it("turns STUN/TURN settings into ICE servers, skipping junk", () => {
    const s = { ...DEFAULT_SETTINGS, stun: "stun:a.example:3478, http://nope , stun:b.example", turnUrl: "turn:t.example:3478", turnUser: "u", turnPass: "p" };
    expect(userIceServers(s)).toEqual([
      { urls: ["stun:a.example:3478", "stun:b.example"] },
      { urls: ["turn:t.example:3478"], username: "u", credential: "p" },
    ]);
    expect(userIceServers(DEFAULT_SETTINGS)).toEqual([]);
  });

  it("puts the server's ICE servers before the user's, and uses none on LAN calls", () => {
    const s = { ...DEFAULT_SETTINGS, stun: "stun:mine.example", turnUrl: "turn:mine.example", turnUser: "u", turnPass: "p" };
    const welcome = [{ urls: ["turn:srv.example:3478"], username: "1700000000:peer", credential: "c" }];
    expect(callIceServers("public", welcome, s)).toEqual([
      welcome[0],
      { urls: ["stun:mine.example"] },
      { urls: ["turn:mine.example"], username: "u", credential: "p" },
    ]);
    expect(callIceServers("device", welcome, s)).toEqual([]);
  });
});
