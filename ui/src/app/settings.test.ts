import { describe, expect, it } from "vitest";
import { callIceServers, DEFAULT_SETTINGS, DEFAULT_STUN, iceSettingsProblems, isIceUrl, sanitize, userIceServers } from "./settings";

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
    expect(userIceServers({ ...DEFAULT_SETTINGS, stun: "" })).toEqual([]);
  });

  it("accepts only STUN/TURN URLs a browser takes (one bad entry would fail the whole call)", () => {
    for (const ok of ["stun:a.example", "stun:a.example:3478", "stuns:a.example:5349", "stun:10.0.0.1:3478", "stun:[::1]:3478"]) {
      expect(isIceUrl(ok, "stun"), ok).toBe(true);
    }
    for (const ok of ["turn:t.example:3478", "turns:t.example:5349?transport=tcp", "turn:[2001:db8::1]?transport=udp"]) {
      expect(isIceUrl(ok, "turn"), ok).toBe(true);
    }
    // What Chromium's RTCPeerConnection throws on, and other junk.
    for (const bad of ["stun:", "stun:a b", "stun:h:99999", "stun:h:0", "stun:h:", "stun:-h", "stun:h?transport=tcp", "turn:t.example", "http://x", ""]) {
      expect(isIceUrl(bad, "stun"), bad).toBe(false);
    }
    expect(isIceUrl("stun:t.example", "turn")).toBe(false);
    expect(isIceUrl("turn:t.example:3478?transport=sctp", "turn")).toBe(false);
    expect(userIceServers({ ...DEFAULT_SETTINGS, stun: "stun:, stun:a b, stun:h:99999, stun:ok.example", turnUrl: "turn:bad host" })).toEqual([
      { urls: ["stun:ok.example"] },
    ]);
  });

  it("names the malformed network settings for the settings form", () => {
    expect(iceSettingsProblems({ stun: "stun:ok.example, stun:a b,, stun:h:99999", turnUrl: " turn:x:1?transport=tcp " })).toEqual({
      stun: ["stun:a b", "stun:h:99999"],
      turn: false,
    });
    expect(iceSettingsProblems({ stun: "", turnUrl: "turn:" })).toEqual({ stun: [], turn: true });
    expect(iceSettingsProblems(DEFAULT_SETTINGS)).toEqual({ stun: [], turn: false });
  });

  it("starts with two public STUN servers, which the person may edit or empty", () => {
    expect(userIceServers(DEFAULT_SETTINGS)).toEqual([{ urls: ["stun:stun.l.google.com:19302", "stun:stun.cloudflare.com:3478"] }]);
    expect(DEFAULT_SETTINGS.stun).toBe(DEFAULT_STUN);
    // A stored choice, even an empty one, wins over the default; a missing one gets it.
    expect(sanitize({ stun: "" }).stun).toBe("");
    expect(sanitize({ stun: "stun:mine.example:3478" }).stun).toBe("stun:mine.example:3478");
    expect(sanitize({ name: "Ada" }).stun).toBe(DEFAULT_STUN);
  });

  it("puts the server's STUN/TURN before the default STUN, and a ?stun= override replaces the setting", () => {
    const welcome = [{ urls: ["stun:10.77.0.1:3478"] }, { urls: ["turn:10.77.0.1:3478"], username: "1700000000:peer", credential: "c" }];
    expect(callIceServers("public", welcome, DEFAULT_SETTINGS)).toEqual([
      ...welcome,
      { urls: ["stun:stun.l.google.com:19302", "stun:stun.cloudflare.com:3478"] },
    ]);
    expect(callIceServers("public", welcome, DEFAULT_SETTINGS, "")).toEqual(welcome);
    expect(callIceServers("public", [], DEFAULT_SETTINGS, "stun:127.0.0.1:3478")).toEqual([{ urls: ["stun:127.0.0.1:3478"] }]);
    // The override touches STUN only: the person's TURN relay stays.
    const withTurn = { ...DEFAULT_SETTINGS, turnUrl: "turn:t.example", turnUser: "u", turnPass: "p" };
    expect(callIceServers("public", [], withTurn, "")).toEqual([{ urls: ["turn:t.example"], username: "u", credential: "p" }]);
    // LAN calls never use the default (or any) STUN server.
    expect(callIceServers("device", welcome, DEFAULT_SETTINGS)).toEqual([]);
    expect(callIceServers(undefined, [], DEFAULT_SETTINGS, "")).toEqual([]);
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
