// A caller on the LAN knocking on a device server, speaking the signaling protocol
// (docs/protocol.md): hello, then knock. Run inside the caller's network namespace:
//   node --experimental-websocket knock.mjs ws://<host>:<port>/ws <name> <device-id>
// Prints every message from the server as one JSON line; the knock stays pending until
// stdin closes (then it sends `cancel` and leaves).
const [url, name, device] = process.argv.slice(2);
if (!url || !name || !device) {
  console.error("usage: knock.mjs <ws-url> <name> <device-id>");
  process.exit(2);
}
const ws = new WebSocket(url);
ws.addEventListener("open", () => {
  ws.send(JSON.stringify({ type: "hello", version: 1 }));
});
ws.addEventListener("message", (event) => {
  const text = String(event.data);
  console.log(text);
  if (JSON.parse(text).type === "welcome") {
    ws.send(JSON.stringify({ type: "knock", name, device, media: "audio" }));
  }
});
ws.addEventListener("close", (event) => {
  console.log(JSON.stringify({ type: "closed", code: event.code }));
  process.exit(0);
});
ws.addEventListener("error", () => {
  console.log(JSON.stringify({ type: "socket-error" }));
  process.exit(1);
});
process.stdin.on("data", () => {});
process.stdin.on("end", () => {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "cancel" }));
  ws.close();
});
