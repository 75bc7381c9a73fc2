import { describe, expect, it } from "vitest";
import { decodeServerMessage } from "./decode";

describe("decodeServerMessage", () => {
  it("accepts well-formed messages", () => {
    const msg = decodeServerMessage('{"type":"joined","code":"7K3Q-H2MX","peers":["a"],"capacity":2}');
    expect(msg).toEqual({ type: "joined", code: "7K3Q-H2MX", peers: ["a"], capacity: 2 });
    expect(decodeServerMessage('{"type":"left"}')).toEqual({ type: "left" });
  });

  it("drops garbage, unknown types and missing fields", () => {
    for (const bad of ["", "nope", "[]", '{"type":"warp"}', '{"type":"joined","code":"x"}',
      '{"type":"signal","from":"a"}', '{"type":"peer-joined","peer":3}']) {
      expect(decodeServerMessage(bad)).toBeNull();
    }
  });
});
