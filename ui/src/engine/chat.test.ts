import { describe, expect, it } from "vitest";
import { ChatChannel, type TextChannel } from "./chat";

function link() {
  const toB: string[] = [];
  const toA: string[] = [];
  const ca: TextChannel & { readyState: RTCDataChannelState } = { readyState: "connecting", send: (d) => void toB.push(d) };
  const cb: TextChannel & { readyState: RTCDataChannelState } = { readyState: "connecting", send: (d) => void toA.push(d) };
  const a = new ChatChannel(ca);
  const b = new ChatChannel(cb);
  const pump = () => {
    while (toB.length || toA.length) {
      for (const m of toB.splice(0)) b.receive(m);
      for (const m of toA.splice(0)) a.receive(m);
    }
  };
  return { a, b, ca, cb, pump };
}

describe("chat", () => {
  it("moves a message from sending to sent to delivered", () => {
    const { a, b, ca, cb, pump } = link();
    a.say("  hello  ");
    expect(a.list()[0]).toMatchObject({ text: "hello", from: "me", state: "sending" });
    ca.readyState = cb.readyState = "open";
    a.opened();
    expect(a.list()[0]?.state).toBe("sent");
    pump();
    expect(b.list()).toMatchObject([{ text: "hello", from: "peer" }]);
    expect(a.list()[0]?.state).toBe("delivered");
  });

  it("marks unsent messages failed when the channel closes, ignores blanks", () => {
    const { a } = link();
    a.say("   ");
    a.say("lost");
    a.closed();
    expect(a.list()).toMatchObject([{ text: "lost", state: "failed" }]);
  });

  it("carries media notes and goodbyes", () => {
    const { a, b, ca, cb, pump } = link();
    ca.readyState = cb.readyState = "open";
    const seen: unknown[] = [];
    b.on("media", (m) => seen.push(m));
    b.on("bye", () => seen.push("bye"));
    a.announceMedia({ audio: false, video: true, screen: false });
    a.bye();
    pump();
    expect(seen).toEqual([{ audio: false, video: true, screen: false }, "bye"]);
  });
});
