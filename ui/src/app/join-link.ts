/**
 * `parley://join/CODE` links in the app. The backend (src-tauri/src/deep_link.rs) checks the
 * link, keeps the code and fires `join-link`; the UI takes the code at start (the app may have
 * been launched by the link) and after each event, and fills in the join form with it.
 */
import { appIpc, type AppIpc } from "../engine/ipc";
import { checkRoomCode } from "./roomcode";

/** Calls `open` with each join code the app is handed; does nothing outside the app. */
export async function watchJoinLinks(open: (code: string) => void, ipc: Pick<AppIpc, "invoke" | "listen"> | null = appIpc()): Promise<void> {
  if (!ipc) return;
  const take = async (): Promise<void> => {
    try {
      const code = await ipc.invoke<string | null>("take_join_link");
      const check = typeof code === "string" ? checkRoomCode(code) : null;
      if (check?.ok) open(check.code);
    } catch {
      // An app build without deep links.
    }
  };
  try {
    // Listen before taking, so a link arriving in between is not lost (taking twice is harmless).
    await ipc.listen("join-link", () => void take());
  } catch {
    // No event permission: links still work at launch.
  }
  await take();
}
