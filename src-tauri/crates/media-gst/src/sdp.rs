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
}
