// Forwards connections from a Unix socket file to 127.0.0.1:<port> of the network namespace it
// runs in (started with `ip netns exec`), so the test process can reach tauri-driver there.
// Usage: node forward.mjs <socket-path> <port>. Prints "listening" once the socket exists.
import { createConnection, createServer } from "node:net";
import { rmSync } from "node:fs";

const [socketPath, port] = process.argv.slice(2);
if (!socketPath || !port) {
  console.error("usage: node forward.mjs <socket-path> <port>");
  process.exit(2);
}
rmSync(socketPath, { force: true });
const server = createServer((client) => {
  const upstream = createConnection({ host: "127.0.0.1", port: Number(port) });
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", close);
  upstream.on("error", close);
  client.on("close", close);
  upstream.on("close", close);
});
server.listen(socketPath, () => console.log("listening"));
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    rmSync(socketPath, { force: true });
    process.exit(0);
  });
}
