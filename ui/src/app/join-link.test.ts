import { describe, expect, it } from "vitest";
import { ipcFrom, type TauriInternals } from "../engine/ipc";
import { watchJoinLinks } from "./join-link";

/** The app's IPC as the UI sees it: a queue of codes behind `take_join_link`, and events. */
function fakeApp(codes: Array<string | null>) {
  const listeners: Array<(m: unknown) => void> = [];
  const calls: string[] = [];
  const tauri: TauriInternals = {
    async invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
      calls.push(cmd);
      if (cmd === "take_join_link") return (codes.shift() ?? null) as T;
      if (cmd === "plugin:event|listen") {
        expect(args?.event).toBe("join-link");
        return 1 as T;
      }
      throw new Error(`unexpected ${cmd}`);
    },
    transformCallback(cb) {
      listeners.push(cb);
      return listeners.length;
    },
  };
  return { tauri, calls, fire: () => listeners.forEach((l) => l({ event: "join-link", payload: {} })) };
}

describe("join links", () => {
  it("fills in the code the app was launched with, then each new one", async () => {
    const app = fakeApp(["abcd-efgh"]);
    const opened: string[] = [];
    await watchJoinLinks((c) => opened.push(c), ipcFrom(app.tauri));
    expect(opened).toEqual(["ABCD-EFGH"]);
    expect(app.calls.slice(0, 2)).toEqual(["plugin:event|listen", "take_join_link"]);

    app.tauri.invoke = (async (cmd: string) => (cmd === "take_join_link" ? "7K3Q-H2MX" : null)) as TauriInternals["invoke"];
    app.fire();
    await new Promise((r) => setTimeout(r, 0));
    expect(opened).toEqual(["ABCD-EFGH", "7K3Q-H2MX"]);
  });

  it("ignores nothing-pending, junk, and being outside the app", async () => {
    const opened: string[] = [];
    await watchJoinLinks((c) => opened.push(c), ipcFrom(fakeApp([null]).tauri));
    await watchJoinLinks((c) => opened.push(c), ipcFrom(fakeApp(["<script>"]).tauri));
    await watchJoinLinks((c) => opened.push(c), null);
    expect(opened).toEqual([]);
  });
});
