//! webrtcbin's statistics (GStreamer 1.22) put in the shape calls read from browsers. Every RTP
//! stream record says `kind: "video"`, its codec record often names no codec, and the
//! `transport` record has no byte counts: the quality panel then mixed audio into video, and
//! the call's silence watch saw a path with nothing arriving and restarted ICE every few
//! seconds.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// One statistics record (camelCase keys, as browsers name them).
pub(crate) type Record = Map<String, Value>;

fn text<'a>(r: &'a Record, key: &str) -> Option<&'a str> {
    r.get(key).and_then(Value::as_str)
}

fn number(r: &Record, key: &str) -> Option<f64> {
    r.get(key).and_then(Value::as_f64)
}

fn ssrc(r: &Record) -> Option<u64> {
    number(r, "ssrc").map(|v| v as u64)
}

/// `audio` or `video` from a codec record's `mimeType`.
fn codec_kind(r: &Record) -> Option<&'static str> {
    let mime = text(r, "mimeType")?.to_ascii_lowercase();
    match mime.split('/').next() {
        Some("audio") => Some("audio"),
        Some("video") => Some("video"),
        _ => None,
    }
}

fn is_rtp(r: &Record) -> bool {
    matches!(text(r, "type"), Some("inbound-rtp" | "outbound-rtp"))
}

/// Fixes `kind` and `codecId` of RTP records from the SSRCs the descriptions announce
/// (`announced`, see [`crate::sdp::ssrc_kinds`]) and from codec records that name an SSRC,
/// and gives the transport the bytes its RTP streams carried.
pub(crate) fn browser_shaped(
    mut records: Vec<Record>,
    announced: &[(u64, &'static str)],
) -> Vec<Record> {
    let mut kinds: HashMap<u64, &'static str> = announced.iter().copied().collect();
    // (id, kind) of codec records that name their codec.
    let codecs: Vec<(String, &'static str)> = records
        .iter()
        .filter(|r| text(r, "type") == Some("codec"))
        .filter_map(|r| {
            let kind = codec_kind(r)?;
            if let Some(ssrc) = ssrc(r) {
                kinds.entry(ssrc).or_insert(kind);
            }
            Some((text(r, "id")?.to_owned(), kind))
        })
        .collect();
    for r in records.iter_mut().filter(|r| is_rtp(r)) {
        let Some(kind) = ssrc(r).and_then(|s| kinds.get(&s).copied()) else {
            continue;
        };
        r.insert("kind".into(), kind.into());
        let own = text(r, "codecId").and_then(|id| codecs.iter().find(|(c, _)| c == id));
        if own.is_none_or(|(_, k)| *k != kind)
            && let Some((id, _)) = codecs.iter().find(|(_, k)| *k == kind)
        {
            r.insert("codecId".into(), id.clone().into());
        }
    }
    let sum = |kind: &str, key: &str| -> f64 {
        records
            .iter()
            .filter(|r| text(r, "type") == Some(kind))
            .filter_map(|r| number(r, key))
            .sum()
    };
    let (received, sent) = (
        sum("inbound-rtp", "bytesReceived"),
        sum("outbound-rtp", "bytesSent"),
    );
    let at = records
        .iter()
        .find_map(|r| r.get("timestamp").cloned())
        .unwrap_or(Value::Null);
    let index = match records
        .iter()
        .position(|r| text(r, "type") == Some("transport"))
    {
        Some(i) => i,
        None => {
            let mut t = Record::new();
            t.insert("id".into(), "transport-native".into());
            t.insert("type".into(), "transport".into());
            t.insert("timestamp".into(), at);
            records.push(t);
            records.len() - 1
        }
    };
    if let Some(t) = records.get_mut(index) {
        for (key, total) in [("bytesReceived", received), ("bytesSent", sent)] {
            if number(t, key).is_none() {
                t.insert(key.into(), (total as u64).into());
            }
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    // Trimmed from what webrtcbin (GStreamer 1.22) reported in an app call with Chromium.
    const LOCAL: &str = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ssrc:2629885625 cname:app\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\na=ssrc:3673452344 cname:app\r\n";
    const REMOTE: &str = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ssrc:3878492283 cname:c\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ssrc-group:FID 2679719170 11\r\na=ssrc:2679719170 cname:c\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
    const TRANSPORT: &str = "transport-stats_webrtcdtlstransport0";

    fn webrtcbin(bytes: u64) -> Vec<Record> {
        let records = json!([
            { "id": "codec-stats-sink_0", "type": "codec", "mimeType": "audio/OPUS", "payloadType": 111, "ssrc": 2629885625u64, "timestamp": 1000 },
            { "id": "codec-stats-sink_1", "type": "codec", "mimeType": "video/VP8", "payloadType": 96, "ssrc": 3673452344u64, "timestamp": 1000 },
            { "id": "codec-stats-src_1", "type": "codec", "timestamp": 1000 },
            { "id": TRANSPORT, "type": "transport", "timestamp": 1000 },
            { "id": "in-a", "type": "inbound-rtp", "kind": "video", "ssrc": 3878492283u64, "codecId": "codec-stats-src_1", "bytesReceived": bytes, "transportId": TRANSPORT },
            { "id": "in-v", "type": "inbound-rtp", "kind": "video", "ssrc": 2679719170u64, "codecId": "codec-stats-src_1", "bytesReceived": 10 * bytes, "transportId": TRANSPORT },
            { "id": "out-a", "type": "outbound-rtp", "kind": "video", "ssrc": 2629885625u64, "codecId": "codec-stats-src_1", "bytesSent": 11431, "transportId": TRANSPORT },
            { "id": "out-v", "type": "outbound-rtp", "kind": "video", "ssrc": 3673452344u64, "codecId": "codec-stats-src_1", "bytesSent": 52213, "transportId": TRANSPORT },
        ]);
        records
            .as_array()
            .map(|a| a.iter().filter_map(|r| r.as_object().cloned()).collect())
            .unwrap_or_default()
    }

    fn announced() -> Vec<(u64, &'static str)> {
        let mut kinds = crate::sdp::ssrc_kinds(LOCAL);
        kinds.extend(crate::sdp::ssrc_kinds(REMOTE));
        kinds
    }

    fn by_id<'a>(records: &'a [Record], id: &str) -> &'a Record {
        records
            .iter()
            .find(|r| text(r, "id") == Some(id))
            .unwrap_or_else(|| panic!("no record {id}"))
    }

    #[test]
    fn the_descriptions_ssrcs_give_each_stream_its_kind_and_codec() {
        let mut kinds = announced();
        kinds.sort_unstable();
        assert_eq!(
            kinds,
            vec![
                (2629885625, "audio"),
                (2679719170, "video"),
                (3673452344, "video"),
                (3878492283, "audio"),
            ]
        );
        let shaped = browser_shaped(webrtcbin(2873), &announced());
        let kind_and_codec = |id| {
            let r = by_id(&shaped, id);
            (text(r, "kind"), text(r, "codecId"))
        };
        assert_eq!(
            kind_and_codec("in-a"),
            (Some("audio"), Some("codec-stats-sink_0"))
        );
        assert_eq!(
            kind_and_codec("in-v"),
            (Some("video"), Some("codec-stats-sink_1"))
        );
        assert_eq!(
            kind_and_codec("out-a"),
            (Some("audio"), Some("codec-stats-sink_0"))
        );
        assert_eq!(
            kind_and_codec("out-v"),
            (Some("video"), Some("codec-stats-sink_1"))
        );
    }

    #[test]
    fn the_transport_counts_what_its_streams_carried() {
        // A live call must not look like a lost path to the silence watch.
        let bytes = |records: &[Record], key| number(by_id(records, TRANSPORT), key);
        let first = browser_shaped(webrtcbin(2873), &announced());
        let later = browser_shaped(webrtcbin(3100), &announced());
        assert_eq!(bytes(&first, "bytesReceived"), Some(2873.0 * 11.0));
        assert_eq!(bytes(&later, "bytesReceived"), Some(3100.0 * 11.0));
        assert_eq!(bytes(&first, "bytesSent"), Some(11431.0 + 52213.0));
        // Without a transport record at all, one is added.
        let without: Vec<Record> = webrtcbin(5)
            .into_iter()
            .filter(|r| text(r, "type") != Some("transport"))
            .collect();
        let shaped = browser_shaped(without, &announced());
        assert_eq!(
            number(by_id(&shaped, "transport-native"), "bytesReceived"),
            Some(55.0)
        );
    }
}
