import { describe, expect, it } from "vitest";
import { checkRoomCode, displayCode } from "./roomcode";

describe("room code input", () => {
  it("forgives case, dashes, spaces and look-alikes like the server", () => {
    expect(checkRoomCode("7k3q-h2mx")).toEqual({ ok: true, code: "7K3Q-H2MX" });
    expect(checkRoomCode(" 7K3Q H2MX ")).toEqual({ ok: true, code: "7K3Q-H2MX" });
    expect(checkRoomCode("oIl0-0000")).toEqual({ ok: true, code: "0110-0000" });
    expect(displayCode("7K3QH2MX")).toBe("7K3Q-H2MX");
  });

  it("explains what is wrong", () => {
    expect(checkRoomCode("7K3Q-H2M")).toEqual({ ok: false, reason: "length" });
    expect(checkRoomCode("7K3Q-H2MXX")).toEqual({ ok: false, reason: "length" });
    expect(checkRoomCode("7K3Q-H2MU")).toEqual({ ok: false, reason: "char", char: "U" });
    expect(checkRoomCode("7K3Q_H2MX")).toEqual({ ok: false, reason: "char", char: "_" });
    expect(checkRoomCode("７K3Q-H2MX")).toEqual({ ok: false, reason: "char", char: "７" });
  });
});
