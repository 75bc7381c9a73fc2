//! Rewriting mDNS host candidates (`<uuid>.local`) to an address the backend already knows.
//!
//! Browsers hide a host's IP behind a random `.local` name until the page has camera access, and
//! the other side must then resolve that name over multicast, which fails on many networks (and
//! in WebKit, which does not resolve them at all). When the backend dialled a LAN peer's device
//! server, every `signal` from that server comes from the peer itself, whose address the backend
//! just connected to; so the name can be replaced by that address before the UI sees it.

use std::net::{IpAddr, SocketAddr};

use serde_json::Value;

/// The address to put in place of `.local` names in frames from the server at `peer`, or `None`
/// when frames from it must be left alone: a server on the internet relays candidates of
/// somebody else entirely, and this device's own server (`own_port` on loopback) relays the
/// caller's, whose address the connection does not tell.
pub fn rewrite_target(peer: SocketAddr, own_port: Option<u16>) -> Option<IpAddr> {
    let ip = peer.ip().to_canonical();
    if ip.is_loopback() && own_port == Some(peer.port()) {
        return None;
    }
    is_local_network(ip).then_some(ip)
}

/// Rewrites the frames of one connection: only once the server's `welcome` said it is a device
/// server, whose rooms hold just its owner and the caller. A room server on the local network
/// relays candidates of other people entirely, which must stay as they are.
#[derive(Debug, Clone, Copy)]
pub struct Rewriter {
    ip: Option<IpAddr>,
    device_server: bool,
}

impl Rewriter {
    /// A rewriter putting `ip` (see [`rewrite_target`]) in place of `.local` names.
    pub fn new(ip: Option<IpAddr>) -> Self {
        Self {
            ip,
            device_server: false,
        }
    }

    /// The frame to hand on in place of `frame`, or `None` to hand it on unchanged.
    pub fn frame(&mut self, frame: &str) -> Option<String> {
        let ip = self.ip?;
        if !self.device_server {
            self.device_server = is_device_welcome(frame);
            return None;
        }
        rewrite_signal_frame(frame, ip)
    }
}

fn is_device_welcome(frame: &str) -> bool {
    if !frame.contains("\"welcome\"") {
        return false;
    }
    serde_json::from_str::<Value>(frame).is_ok_and(|v| {
        v.get("type").and_then(Value::as_str) == Some("welcome")
            && v.get("mode").and_then(Value::as_str) == Some("device")
    })
}

/// Loopback, private, link-local and shared (carrier-grade NAT, VPN overlays) addresses.
fn is_local_network(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
    }
}

/// Rewrites a `signal` server frame whose data carries `.local` candidates; `None` when the frame
/// is something else or has nothing to rewrite (the caller forwards it unchanged).
pub fn rewrite_signal_frame(frame: &str, ip: IpAddr) -> Option<String> {
    // Most frames carry no candidates; skip the parse for them.
    if !frame.contains(".local") {
        return None;
    }
    let mut value: Value = serde_json::from_str(frame).ok()?;
    if value.get("type").and_then(Value::as_str) != Some("signal") {
        return None;
    }
    let data = value.get_mut("data")?;
    if !rewrite_strings(data, ip) {
        return None;
    }
    serde_json::to_string(&value).ok()
}

/// Rewrites every string inside `value` in place; true if any changed. The payload is the UI's
/// own (`{description:{sdp}}`, `{candidate:{candidate}}`), but walking all of it keeps this
/// independent of that shape.
fn rewrite_strings(value: &mut Value, ip: IpAddr) -> bool {
    match value {
        Value::String(text) => match rewrite_candidates(text, ip) {
            Some(new) => {
                *text = new;
                true
            }
            None => false,
        },
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, item| rewrite_strings(item, ip) | changed),
        Value::Object(fields) => fields
            .values_mut()
            .fold(false, |changed, item| rewrite_strings(item, ip) | changed),
        _ => false,
    }
}

/// Rewrites the connection address of every `.local` candidate in `text`, which is one
/// candidate (`candidate:…`) or a whole SDP (`a=candidate:…` lines); `None` if none was found.
pub fn rewrite_candidates(text: &str, ip: IpAddr) -> Option<String> {
    if !text.contains("candidate:") || !text.contains(".local") {
        return None;
    }
    let mut changed = false;
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| match rewrite_line(line, ip) {
            Some(new) => {
                changed = true;
                new
            }
            None => line.to_owned(),
        })
        .collect();
    changed.then(|| lines.join("\n"))
}

/// One candidate line: `[a=]candidate:<foundation> <component> <transport> <priority>
/// <address> <port> typ <type> …` (RFC 8839 §5.1), possibly ending in `\r`.
fn rewrite_line(line: &str, ip: IpAddr) -> Option<String> {
    let (body, cr) = match line.strip_suffix('\r') {
        Some(body) => (body, "\r"),
        None => (line, ""),
    };
    let (prefix, rest) = match body.strip_prefix("a=") {
        Some(rest) => ("a=", rest),
        None => ("", body),
    };
    if !rest.starts_with("candidate:") {
        return None;
    }
    let mut fields: Vec<&str> = rest.split(' ').collect();
    let address = fields.get(4)?;
    if fields.len() < 8 || !address.to_ascii_lowercase().ends_with(".local") {
        return None;
    }
    let replacement = ip.to_string();
    fields[4] = &replacement;
    Some(format!("{prefix}{}{cr}", fields.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// As Chromium trickles a host candidate before the page has camera access.
    const CHROMIUM_HOST: &str = "candidate:2384453283 1 udp 2122260223 3f1c6a47-9c2e-4b8a-a1d0-5f0e7c2b9d11.local 54321 typ host generation 0 ufrag Wq3x network-id 1 network-cost 10";
    const SRFLX: &str = "candidate:842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag Wq3x network-cost 999";

    fn lan_ip() -> IpAddr {
        "192.168.1.23".parse().unwrap()
    }

    #[test]
    fn a_trickled_local_host_candidate_gets_the_dialled_address() {
        let rewritten = rewrite_candidates(CHROMIUM_HOST, lan_ip()).unwrap();
        assert_eq!(
            rewritten,
            "candidate:2384453283 1 udp 2122260223 192.168.1.23 54321 typ host generation 0 ufrag Wq3x network-id 1 network-cost 10"
        );
    }

    #[test]
    fn other_candidates_and_text_are_left_alone() {
        assert_eq!(rewrite_candidates(SRFLX, lan_ip()), None);
        assert_eq!(
            rewrite_candidates("see you at printer.local", lan_ip()),
            None
        );
        // Too few fields to be a candidate.
        assert_eq!(
            rewrite_candidates("candidate:1 1 udp x.local", lan_ip()),
            None
        );
    }

    #[test]
    fn sdp_candidate_lines_are_rewritten_and_the_rest_kept_byte_for_byte() {
        let host_line = format!("a={CHROMIUM_HOST}");
        let srflx_line = format!("a={SRFLX}");
        let sdp = [
            "v=0",
            "o=- 46117 2 IN IP4 127.0.0.1",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111",
            "c=IN IP4 0.0.0.0",
            &host_line,
            &srflx_line,
            "a=mid:0",
            "",
        ]
        .join("\r\n");
        let out = rewrite_candidates(&sdp, "fd00::5".parse().unwrap()).unwrap();
        assert!(out.contains(
            "a=candidate:2384453283 1 udp 2122260223 fd00::5 54321 typ host generation 0"
        ));
        assert!(out.contains(&format!("a={SRFLX}\r\n")));
        assert_eq!(
            out,
            sdp.replace("3f1c6a47-9c2e-4b8a-a1d0-5f0e7c2b9d11.local", "fd00::5")
        );
        assert!(out.ends_with("a=mid:0\r\n"));
    }

    #[test]
    fn signal_frames_are_rewritten_inside_their_data_only() {
        let frame = json!({
            "type": "signal",
            "from": "peer-b",
            "data": { "candidate": { "candidate": CHROMIUM_HOST, "sdpMid": "0", "sdpMLineIndex": 0 } }
        })
        .to_string();
        let out: Value =
            serde_json::from_str(&rewrite_signal_frame(&frame, lan_ip()).unwrap()).unwrap();
        assert_eq!(out["from"], json!("peer-b"));
        assert_eq!(out["data"]["candidate"]["sdpMid"], json!("0"));
        assert!(
            out["data"]["candidate"]["candidate"]
                .as_str()
                .unwrap()
                .contains(" 192.168.1.23 54321 typ host ")
        );

        let not_signal = json!({ "type": "incoming", "name": CHROMIUM_HOST }).to_string();
        assert_eq!(rewrite_signal_frame(&not_signal, lan_ip()), None);
        assert_eq!(rewrite_signal_frame("{not json .local", lan_ip()), None);
    }

    #[test]
    fn only_a_device_server_s_frames_are_rewritten() {
        let signal = json!({"type": "signal", "from": "p", "data": {"candidate": {"candidate": CHROMIUM_HOST}}}).to_string();
        let welcome =
            |mode: &str| json!({"type": "welcome", "mode": mode, "peerId": "me"}).to_string();

        let mut room_server = Rewriter::new(Some(lan_ip()));
        assert_eq!(room_server.frame(&welcome("public")), None);
        assert_eq!(
            room_server.frame(&signal),
            None,
            "another person's candidate"
        );

        let mut device = Rewriter::new(Some(lan_ip()));
        assert_eq!(device.frame(&welcome("device")), None);
        assert!(
            device
                .frame(&signal)
                .unwrap()
                .contains(" 192.168.1.23 54321 ")
        );

        let mut internet = Rewriter::new(None);
        assert_eq!(internet.frame(&welcome("device")), None);
        assert_eq!(internet.frame(&signal), None);
    }

    #[test]
    fn only_local_network_servers_other_than_our_own_are_rewritten_for() {
        let lan: SocketAddr = "192.168.1.23:7878".parse().unwrap();
        assert_eq!(rewrite_target(lan, Some(7878)), Some(lan.ip()));
        let public: SocketAddr = "203.0.113.9:443".parse().unwrap();
        assert_eq!(rewrite_target(public, None), None);
        let own: SocketAddr = "127.0.0.1:7878".parse().unwrap();
        assert_eq!(rewrite_target(own, Some(7878)), None);
        let other_on_loopback: SocketAddr = "127.0.0.1:7879".parse().unwrap();
        assert_eq!(
            rewrite_target(other_on_loopback, Some(7878)),
            Some(other_on_loopback.ip())
        );
        let mapped: SocketAddr = "[::ffff:10.0.0.2]:7878".parse().unwrap();
        assert_eq!(
            rewrite_target(mapped, None),
            Some("10.0.0.2".parse().unwrap())
        );
        let link_local: SocketAddr = "[fe80::1]:7878".parse().unwrap();
        assert!(rewrite_target(link_local, None).is_some());
    }
}
