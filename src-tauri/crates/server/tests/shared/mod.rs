//! Harness for shared-mode tests: a real `redis-server` on a Unix socket in a temp dir,
//! `parley-server` instances pointing at it, and a small WebSocket client.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// Longest any awaited condition may take.
pub(crate) const WAIT: Duration = Duration::from_secs(15);
const REDIS: &str = "/usr/bin/redis-server";

/// A `redis-server` that persists every write (AOF, fsync always) so it can restart with
/// its data, killed and its directory removed on drop.
pub(crate) struct Redis {
    child: Option<Child>,
    dir: PathBuf,
}

impl Redis {
    pub(crate) fn start() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("parley-bp-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = Self { child: None, dir };
        redis.spawn();
        redis
    }

    pub(crate) fn url(&self) -> String {
        format!("redis+unix://{}", self.dir.join("redis.sock").display())
    }

    fn spawn(&mut self) {
        assert!(
            std::path::Path::new(REDIS).exists(),
            "{REDIS} is missing: shared-mode tests need Debian's redis-server \
             (scripts/install-deps.sh installs it)"
        );
        let mut child = Command::new(REDIS)
            .args(["--port", "0", "--unixsocket"])
            .arg(self.dir.join("redis.sock"))
            .arg("--dir")
            .arg(&self.dir)
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .args(["--logfile", "", "--daemonize", "no"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // A thread reads its log: it reports readiness, then keeps draining the pipe so
        // Redis never blocks on it.
        let stdout = child.stdout.take().unwrap();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line
                    .to_ascii_lowercase()
                    .contains("ready to accept connections")
                {
                    let _ = ready_tx.send(());
                }
            }
        });
        if ready_rx.recv_timeout(WAIT).is_err() {
            let _ = child.kill();
            panic!("redis-server did not become ready within {WAIT:?}");
        }
        self.child = Some(child);
    }

    /// Kills Redis abruptly (SIGKILL).
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts Redis again on the same socket with the same data.
    pub(crate) fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `parley-server` instance, killed on drop.
pub(crate) struct Instance {
    child: Child,
    pub(crate) addr: String,
}

impl Instance {
    pub(crate) fn start(redis: &Redis, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_parley-server"))
            .args(["--bind", "127.0.0.1:0", "--redis-url", &redis.url()])
            .args(["--redis-heartbeat-ms", "100"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("PARLEY_TEST_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line.trim().rsplit("://").next().unwrap().to_owned();
        assert!(line.starts_with("parley-server listening"), "{line}");
        Self { child, addr }
    }

    /// Kills the instance abruptly (SIGKILL): no `bye`, no cleanup in Redis.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn metrics(&self) -> String {
        let Ok(mut tcp) = std::net::TcpStream::connect(&self.addr) else {
            return String::new();
        };
        let _ = tcp.set_read_timeout(Some(WAIT));
        let _ = tcp.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
        let mut text = String::new();
        let _ = tcp.read_to_string(&mut text);
        text
    }

    /// Waits until `/metrics` says the backplane is (or is not) up.
    pub(crate) async fn wait_backplane(&self, up: bool) {
        let want = format!("parley_backplane_up {}", u8::from(up));
        let deadline = Instant::now() + WAIT;
        while !self.metrics().lines().any(|line| line == want) {
            assert!(Instant::now() < deadline, "backplane never became up={up}");
            // Polling an HTTP endpoint: the interval only paces the checks.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A protocol client on one instance.
pub(crate) struct Client {
    ws: Ws,
    pub(crate) peer: String,
    pub(crate) token: String,
}

impl Client {
    /// Connects and says hello (optionally resuming); checks the welcome.
    pub(crate) async fn hello(instance: &Instance, resume: Option<(&str, &str)>) -> (Self, Value) {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", instance.addr))
            .await
            .unwrap();
        let mut client = Self {
            ws,
            peer: String::new(),
            token: String::new(),
        };
        let mut hello = json!({"type": "hello", "version": 1});
        if let Some((peer, token)) = resume {
            hello["resume"] = json!({"peerId": peer, "token": token});
        }
        client.send(hello).await;
        let welcome = client.expect("welcome").await;
        client.peer = welcome["peerId"].as_str().unwrap().to_owned();
        client.token = welcome["resumeToken"].as_str().unwrap().to_owned();
        (client, welcome)
    }

    pub(crate) async fn send(&mut self, msg: Value) {
        self.ws.send(Message::text(msg.to_string())).await.unwrap();
    }

    /// The next protocol message.
    pub(crate) async fn recv(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no message in time")
                .expect("connection closed")
                .unwrap();
            if let Message::Text(text) = frame {
                return serde_json::from_str(&text).unwrap();
            }
        }
    }

    /// The next message, which must have this type.
    pub(crate) async fn expect(&mut self, kind: &str) -> Value {
        let msg = self.recv().await;
        assert_eq!(msg["type"], kind, "{msg}");
        msg
    }

    pub(crate) async fn create(&mut self) -> String {
        self.send(json!({"type": "create"})).await;
        let created = self.expect("created").await;
        created["code"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn join(&mut self, code: &str) -> Value {
        self.send(json!({"type": "join", "code": code})).await;
        self.recv().await
    }

    pub(crate) async fn signal(&mut self, to: &str, data: Value) {
        self.send(json!({"type": "signal", "to": to, "data": data}))
            .await;
    }
}
