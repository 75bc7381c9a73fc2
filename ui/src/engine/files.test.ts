import { describe, expect, it } from "vitest";
import { chunkRanges, FileTransfers, sha256Hex, type ByteChannel, type Transfer } from "./files";

/** One direction of an in-memory ordered channel that drains asynchronously, like SCTP. */
class FakeChannel implements ByteChannel {
  readyState: RTCDataChannelState = "open";
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  peakBuffered = 0;
  peer: FileTransfers | null = null;
  owner: FileTransfers | null = null;
  private chain = Promise.resolve();

  send(data: string | ArrayBufferView<ArrayBuffer>): void {
    const copy = typeof data === "string" ? data : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    const size = typeof copy === "string" ? copy.length : copy.byteLength;
    this.bufferedAmount += size;
    this.peakBuffered = Math.max(this.peakBuffered, this.bufferedAmount);
    this.chain = this.chain.then(async () => {
      await new Promise((r) => setTimeout(r, 0));
      const before = this.bufferedAmount;
      this.bufferedAmount -= size;
      if (before > this.bufferedAmountLowThreshold && this.bufferedAmount <= this.bufferedAmountLowThreshold) {
        this.owner?.bufferedAmountLow();
      }
      await this.peer?.receive(copy);
    });
  }
}

function pair(options = {}) {
  const ab = new FakeChannel();
  const ba = new FakeChannel();
  const a = new FileTransfers(ab, { makeUrl: () => "blob:test", ...options });
  const b = new FileTransfers(ba, { makeUrl: () => "blob:test", ...options });
  ab.owner = a; ab.peer = b;
  ba.owner = b; ba.peer = a;
  return { a, b, ab };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
}

function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

describe("chunkRanges", () => {
  it("covers every byte exactly once", () => {
    expect(chunkRanges(10, 4)).toEqual([[0, 4], [4, 8], [8, 10]]);
    expect(chunkRanges(8, 4)).toEqual([[0, 4], [4, 8]]);
    expect(chunkRanges(0, 4)).toEqual([]);
  });
});

describe("file transfer", () => {
  it("delivers a file with the same SHA-256, respecting the buffer limit", async () => {
    const { a, b, ab } = pair({ chunkBytes: 16 * 1024, highWaterBytes: 128 * 1024, lowWaterBytes: 32 * 1024 });
    const bytes = randomBytes(3 * 1024 * 1024 + 123);
    const expected = await sha256Hex(bytes.buffer);
    a.send(new Blob([bytes]), "photo.jpg");
    const done = (list: Transfer[]) => list.length === 1 && list[0]?.state === "done";
    await until(() => done(a.list()) && done(b.list()));
    const got = b.list()[0]!;
    expect(got).toMatchObject({ direction: "receive", name: "photo.jpg", bytes: bytes.length, sha256: expected, url: "blob:test" });
    expect(a.list()[0]).toMatchObject({ direction: "send", state: "done", sha256: expected });
    expect(ab.peakBuffered).toBeLessThanOrEqual(128 * 1024 + 16 * 1024);
  });

  it("lets the receiver cancel and tells the sender", async () => {
    const { a, b } = pair({ chunkBytes: 16 * 1024, highWaterBytes: 64 * 1024, lowWaterBytes: 16 * 1024 });
    a.send(new Blob([randomBytes(4 * 1024 * 1024)]), "big.bin");
    await until(() => (b.list()[0]?.bytes ?? 0) > 100_000);
    b.cancel(b.list()[0]!.id);
    await until(() => a.list()[0]?.state === "cancelled");
    expect(b.list()[0]?.state).toBe("cancelled");
    expect(b.list()[0]?.url).toBeUndefined();
  });

  it("fails a file whose bytes do not match the announced hash", async () => {
    const channel = { readyState: "open" as RTCDataChannelState, bufferedAmount: 0, bufferedAmountLowThreshold: 0, sent: [] as string[],
      send(d: string | ArrayBufferView) { if (typeof d === "string") this.sent.push(d); } };
    const b = new FileTransfers(channel, { makeUrl: () => "blob:x" });
    await b.receive(JSON.stringify({ t: "offer", id: "f1", name: "x", size: 3, mime: "" }));
    await b.receive(new Uint8Array([1, 2, 3]).buffer);
    await b.receive(JSON.stringify({ t: "end", id: "f1", sha256: "00".repeat(32) }));
    expect(b.list()[0]?.state).toBe("failed");
    expect(channel.sent).toContain(JSON.stringify({ t: "bad", id: "f1" }));
  });
});
