// parley://join/CODE links in the real desktop app (issue 7): a second launch with the link hands
// it to the running app (single instance over a private D-Bus), which shows the join form with
// the code filled in; a development build registers itself as the scheme's handler, so
// the desktop's URL opener (`gio open`) reaches it too; junk links change nothing. Run by tests/app/deep-link.sh, which
// provides Xvfb and the session bus. The app is driven over WebDriver (tauri-driver).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { appBinary, tauriDriver } from "./lib/applab.mjs";
import { WebDriver, waitFor } from "./lib/webdriver.mjs";

const WAIT_MS = 30_000;

/** A free loopback TCP port (the driver binds it right after). */
function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      s.close(() => res(typeof address === "object" && address ? address.port : 0));
    });
  });
}

describe("parley:// deep links in the desktop app", () => {
  const home = mkdtempSync(join(tmpdir(), "parley-deeplink-"));
  const xdg = {
    XDG_DATA_HOME: join(home, "data"),
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_CACHE_HOME: join(home, "cache"),
  };
  for (const dir of Object.values(xdg)) mkdirSync(dir, { recursive: true });
  // Single instance stays on (the point of the test); the bus is the private one deep-link.sh made.
  const env = { ...process.env, ...xdg, PARLEY_PORT: "0", PARLEY_MDNS_LOOPBACK: "1", PARLEY_MOCK_MEDIA: "1", NO_COLOR: "1", RUST_LOG: "info" };
  delete env.PARLEY_SINGLE_INSTANCE;
  const appLog = join(home, "app.log");
  const wrapper = join(home, "parley-app.sh");
  const appLogText = () => {
    try {
      return readFileSync(appLog, "utf8");
    } catch {
      return "";
    }
  };
  /** @type {import("node:child_process").ChildProcess | undefined} */
  let driverProcess;
  let log = "";
  /** @type {WebDriver} */
  let driver;
  /** @type {import("./lib/webdriver.mjs").Session | undefined} */
  let app;
  /** The `value` of the first visible join-code input, or null when there is none. */
  const joinCode = async () => {
    const el = await app?.firstDisplayed("join-code");
    return el ? app?.property(el, "value") : null;
  };

  /**
   * Runs the app binary (or a tool) as a person's second launch would; resolves with its exit.
   * @param {string} cmd @param {string[]} args
   */
  function launchAgain(cmd, args) {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        rej(new Error(`${cmd} ${args.join(" ")} still running after ${WAIT_MS} ms (a second app?):\n${out}`));
      }, WAIT_MS);
      child.once("exit", (code) => {
        clearTimeout(timer);
        res({ code, out });
      });
    });
  }

  const diagnostics = () => `--- app log\n${appLogText().slice(-5000)}\n--- driver log\n${log.slice(-2000)}`;

  before(async () => {
    const port = await freePort();
    const nativePort = await freePort();
    // The app's own log: WebKitWebDriver does not pass on what the app prints.
    writeFileSync(wrapper, `#!/bin/sh\necho "app started with: $*" >> '${appLog}'\nexec '${appBinary}' "$@" >> '${appLog}' 2>&1\n`);
    chmodSync(wrapper, 0o755);
    driverProcess = spawn(tauriDriver, ["--port", String(port), "--native-port", String(nativePort)], { env, stdio: ["ignore", "pipe", "pipe"] });
    driverProcess.stdout?.on("data", (d) => (log += d));
    driverProcess.stderr?.on("data", (d) => (log += d));
    driver = new WebDriver({ host: "127.0.0.1", port });
    await waitFor("tauri-driver ready", () => driver.ready(), WAIT_MS);
    app = await driver.launch(wrapper, []);
    await waitFor("the home screen", async () => (await app?.all("home"))?.length, 60_000);
  });

  /** Pids of processes started with this test's cache dir: the app and its WebKit children. */
  const processesOfThisApp = () =>
    readdirSync("/proc").filter((pid) => {
      try {
        return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`XDG_CACHE_HOME=${xdg.XDG_CACHE_HOME}`);
      } catch {
        return false; // gone meanwhile, or not ours to read
      }
    });

  after(async () => {
    await app?.close().catch(() => {});
    driverProcess?.kill("SIGTERM");
    // WebKit keeps writing its shader cache into the home until its processes are gone.
    const gone = await waitFor("the app's processes to exit", () => processesOfThisApp().length === 0, 10_000).then(() => true, () => false);
    if (!gone) for (const pid of processesOfThisApp()) process.kill(Number(pid), "SIGKILL");
    await waitFor("the app's processes to be killed", () => processesOfThisApp().length === 0, 5_000).catch(() => {});
    rmSync(home, { recursive: true, force: true });
  });

  it("a second launch with parley://join/ABCD-EFGH fills in the running app's join form", async () => {
    const second = await launchAgain(appBinary, ["parley://join/ABCD-EFGH"]);
    assert.equal(second.code, 0, `the second launch hands over and exits:\n${second.out}\n${diagnostics()}`);
    await waitFor("join-code = ABCD-EFGH", async () => (await joinCode()) === "ABCD-EFGH", WAIT_MS).catch((e) => {
      throw new Error(`${e.message}\n${diagnostics()}`);
    });
  });

  it("junk links are logged and change nothing", async () => {
    for (const junk of ["parley://join/NOT-A-CODE!", "parley://call/ABCD-EFGH"]) {
      const second = await launchAgain(appBinary, [junk]);
      assert.equal(second.code, 0, second.out);
    }
    await waitFor("two warnings in the app log", async () => (appLogText().match(/ignoring a link the app was opened with/g) ?? []).length >= 2, WAIT_MS).catch((e) => {
      throw new Error(`${e.message}\n${diagnostics()}`);
    });
    assert.equal(await joinCode(), "ABCD-EFGH");
  });

  it("a development build registers the scheme, so the desktop's URL opener reaches the running app", async () => {
    const desktopFile = join(xdg.XDG_DATA_HOME, "applications", "parley-handler.desktop");
    const entry = await waitFor("the handler .desktop file", async () => readFileSync(desktopFile, "utf8"), WAIT_MS);
    assert.match(entry, /^MimeType=(.*;)?x-scheme-handler\/parley(;|$)/m);
    const query = spawnSync("xdg-mime", ["query", "default", "x-scheme-handler/parley"], { env, encoding: "utf8" });
    assert.equal(query.stdout.trim(), "parley-handler.desktop");
    // GNOME's opener (what xdg-open calls there). Without a desktop environment, Debian 12's
    // xdg-open 1.1.3 cannot run an Exec line whose path is quoted, as the plugin writes it.
    const opened = await launchAgain("gio", ["open", "parley://join/7K3Q-H2MX"]);
    assert.equal(opened.code, 0, opened.out);
    await waitFor("join-code = 7K3Q-H2MX", async () => (await joinCode()) === "7K3Q-H2MX", WAIT_MS).catch((e) => {
      throw new Error(`${e.message}\n${diagnostics()}`);
    });
  });

  it("an app started by a link opens with that code filled in", async () => {
    await app?.close().catch(() => {});
    app = await driver.launch(wrapper, ["parley://join/MXQ4-2PHW"]);
    await waitFor("join-code = MXQ4-2PHW", async () => (await joinCode()) === "MXQ4-2PHW", 60_000).catch((e) => {
      throw new Error(`${e.message}\n${diagnostics()}`);
    });
  });
});
