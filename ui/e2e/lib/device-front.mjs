// A same-origin front for a parley-node that cannot serve the UI itself (no --static-dir):
// it serves ui/dist and passes /ws (raw, byte for byte), /device and /healthz through to the
// node. The node still does all the signaling and its own Origin check: the browser's Origin
// and Host both name this front, exactly as if the node had served the page.
import { createReadStream, existsSync, statSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { extname, join, normalize } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
  ".wav": "audio/wav",
  ".mp3": "audio/mpeg",
};

/**
 * @param {{ uiDist: string, nodePort: number }} opts
 * @returns {Promise<{ port: number, close: () => Promise<void> }>}
 */
export async function startDeviceFront({ uiDist, nodePort }) {
  /** @type {Set<net.Socket>} */
  const sockets = new Set();
  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/device" || path === "/healthz") {
      try {
        const up = await fetch(`http://127.0.0.1:${nodePort}${path}`);
        res.writeHead(up.status, Object.fromEntries(up.headers));
        res.end(Buffer.from(await up.arrayBuffer()));
      } catch {
        res.writeHead(502).end();
      }
      return;
    }
    let file = join(uiDist, normalize(path).replace(/^(\.\.[/\\])+/, ""));
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(uiDist, "index.html");
    res.writeHead(200, { "content-type": TYPES[/** @type {keyof TYPES} */ (extname(file))] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req, client, head) => {
    const upstream = net.connect(nodePort, "127.0.0.1", () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    client.on("close", () => upstream.destroy());
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const port = /** @type {net.AddressInfo} */ (server.address()).port;
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
