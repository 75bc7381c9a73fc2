//! Small SDP lookups webrtcbin does not expose.

/// The payload type of `codec` (e.g. `VP8/90000`, case-insensitive) in the first m-section
/// that lists it.
pub(crate) fn payload_type(sdp: &str, codec: &str) -> Option<u32> {
    sdp.lines().find_map(|line| {
        let rest = line.trim_end().strip_prefix("a=rtpmap:")?;
        let (pt, name) = rest.split_once(' ')?;
        let name = name.trim();
        let matches = name.eq_ignore_ascii_case(codec)
            || name
                .to_ascii_lowercase()
                .starts_with(&format!("{}/", codec.to_ascii_lowercase()));
        if matches { pt.parse().ok() } else { None }
    })
}

/// Index of the m-section whose `a=mid:` is `mid`.
pub(crate) fn mline_of_mid(sdp: &str, mid: &str) -> Option<u32> {
    let mut index: Option<u32> = None;
    for line in sdp.lines() {
        let line = line.trim_end();
        if line.starts_with("m=") {
            index = Some(index.map_or(0, |i| i + 1));
        } else if line.strip_prefix("a=mid:") == Some(mid) {
            return index;
        }
    }
    None
}

/// `(ssrc, kind)` for every `a=ssrc:` line under an `m=audio` or `m=video` section.
pub(crate) fn ssrc_kinds(sdp: &str) -> Vec<(u64, &'static str)> {
    let mut kind = None;
    let mut out = Vec::new();
    for line in sdp.lines() {
        let line = line.trim_end();
        if let Some(media) = line.strip_prefix("m=") {
            kind = match media.split(' ').next() {
                Some("audio") => Some("audio"),
                Some("video") => Some("video"),
                _ => None,
            };
        } else if let (Some(kind), Some(rest)) = (kind, line.strip_prefix("a=ssrc:"))
            && let Some(Ok(ssrc)) = rest.split(' ').next().map(str::parse)
        {
            out.push((ssrc, kind));
        }
    }
    out
}

/// The value of the first line starting with `prefix`.
fn first_value<'a>(sdp: &'a str, prefix: &str) -> Option<&'a str> {
    sdp.lines()
        .find_map(|line| line.trim_end().strip_prefix(prefix))
}

/// The first `a=ice-ufrag:` and `a=ice-pwd:` values (bundled m-sections share one pair).
pub(crate) fn ice_credentials(sdp: &str) -> Option<(String, String)> {
    Some((
        first_value(sdp, "a=ice-ufrag:")?.to_owned(),
        first_value(sdp, "a=ice-pwd:")?.to_owned(),
    ))
}

/// `sdp` with every `a=ice-ufrag:` / `a=ice-pwd:` value replaced, line endings kept.
pub(crate) fn with_ice_credentials(sdp: &str, ufrag: &str, pwd: &str) -> String {
    with_values(sdp, &[("a=ice-ufrag:", ufrag), ("a=ice-pwd:", pwd)])
}

/// The first `a=setup:` value (DTLS role: `active`, `passive` or `actpass`).
pub(crate) fn setup(sdp: &str) -> Option<&str> {
    first_value(sdp, "a=setup:")
}

/// `sdp` with every `a=setup:` value replaced, line endings kept.
pub(crate) fn with_setup(sdp: &str, role: &str) -> String {
    with_values(sdp, &[("a=setup:", role)])
}

/// `sdp` with the value of every line starting with one of the prefixes replaced.
fn with_values(sdp: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.split_inclusive('\n') {
        let body = line.trim_end_matches(['\r', '\n']);
        let ending = &line[body.len()..];
        match values.iter().find(|(prefix, _)| body.starts_with(prefix)) {
            Some((prefix, value)) => {
                out.push_str(prefix);
                out.push_str(value);
                out.push_str(ending);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The formats of the first video m-section in the m-line's order (the sender's preference):
/// payload type, encoding name (`a=rtpmap`) and parameters (`a=fmtp`, empty when none).
pub(crate) fn video_formats(sdp: &str) -> Vec<(u32, String, String)> {
    let mut order: Vec<u32> = Vec::new();
    let mut names: Vec<(u32, String)> = Vec::new();
    let mut params: Vec<(u32, String)> = Vec::new();
    let mut inside = false;
    for line in sdp.lines().map(str::trim_end) {
        if let Some(m) = line.strip_prefix("m=") {
            if inside {
                break;
            }
            inside = m.starts_with("video ");
            if inside {
                order = m
                    .split(' ')
                    .skip(3)
                    .filter_map(|p| p.parse().ok())
                    .collect();
            }
        } else if inside {
            let split = |rest: &str| -> Option<(u32, String)> {
                let (pt, value) = rest.split_once(' ')?;
                Some((pt.parse().ok()?, value.trim().to_owned()))
            };
            if let Some((pt, name)) = line.strip_prefix("a=rtpmap:").and_then(split) {
                let encoding = name.split('/').next().unwrap_or_default().to_owned();
                names.push((pt, encoding));
            } else if let Some(entry) = line.strip_prefix("a=fmtp:").and_then(split) {
                params.push(entry);
            }
        }
    }
    let lookup = |list: &[(u32, String)], pt: u32| {
        list.iter().find(|(p, _)| *p == pt).map(|(_, v)| v.clone())
    };
    order
        .into_iter()
        .filter_map(|pt| {
            Some((
                pt,
                lookup(&names, pt)?,
                lookup(&params, pt).unwrap_or_default(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssrc_kinds_skip_what_is_not_an_audio_or_video_ssrc() {
        let sdp = "v=0\r\na=ssrc:1 cname:session\r\nm=audio 9 UDP 111\r\na=ssrc:2 cname:a\r\na=ssrc:x cname:bad\r\na=ssrc:99999999999999999999999 cname:too-big\r\na=ssrc:\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ssrc:3 cname:data\r\nm=video 9 UDP 96\r\na=ssrc:4 cname:v\r\n";
        assert_eq!(ssrc_kinds(sdp), vec![(2, "audio"), (4, "video")]);
        assert!(ssrc_kinds("").is_empty());
    }

    const SDP: &str = "v=0\r\nm=audio 9 UDP 111\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\nm=video 9 UDP 96\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n";

    #[test]
    fn finds_payload_types_and_mids() {
        assert_eq!(payload_type(SDP, "VP8/90000"), Some(96));
        assert_eq!(payload_type(SDP, "opus/48000"), Some(111));
        assert_eq!(payload_type(SDP, "H264/90000"), None);
        assert_eq!(mline_of_mid(SDP, "1"), Some(1));
        assert_eq!(mline_of_mid(SDP, "x"), None);
        assert_eq!(
            video_formats(SDP),
            vec![(96, "VP8".to_owned(), String::new())]
        );
    }

    const ICE: &str = "v=0\r\nm=audio 9 UDP 111\r\na=ice-ufrag:old1\r\na=ice-pwd:oldpassword\r\na=mid:0\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:old1\r\na=ice-pwd:oldpassword\r\n";

    #[test]
    fn reads_and_replaces_ice_credentials_in_every_section() {
        assert_eq!(
            ice_credentials(ICE),
            Some(("old1".to_owned(), "oldpassword".to_owned()))
        );
        let new = with_ice_credentials(ICE, "Nw2x", "freshpasswordfreshpass");
        assert_eq!(new.matches("a=ice-ufrag:Nw2x\r\n").count(), 2);
        assert_eq!(
            new.matches("a=ice-pwd:freshpasswordfreshpass\r\n").count(),
            2
        );
        assert!(!new.contains("old1") && !new.contains("oldpassword"));
        // Nothing else moves: same lines, same endings.
        assert_eq!(new.lines().count(), ICE.lines().count());
        assert!(new.ends_with("\r\n") && new.starts_with("v=0\r\nm=audio"));
        assert_eq!(ice_credentials("v=0\r\n"), None);
    }

    #[test]
    fn reads_and_replaces_the_dtls_role() {
        let sdp =
            "v=0\r\nm=audio 9 UDP 111\r\na=setup:active\r\nm=video 9 UDP 96\r\na=setup:active\r\n";
        assert_eq!(setup(sdp), Some("active"));
        let passive = with_setup(sdp, "passive");
        assert_eq!(passive.matches("a=setup:passive\r\n").count(), 2);
        assert_eq!(setup(&passive), Some("passive"));
        assert_eq!(setup("v=0\r\n"), None);
    }
}
