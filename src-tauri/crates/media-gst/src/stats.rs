//! `get-stats` from webrtcbin as W3C-shaped JSON records (camelCase keys, `type` nicks), plus
//! the receive-side numbers webrtcbin does not know (frames decoded, audio level).

use std::sync::atomic::Ordering;

use gst::glib;
use serde_json::Value;

use crate::media::Counters;
use crate::stats_shape::{Record, browser_shaped};

fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '-' || c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn to_json(value: &glib::SendValue) -> Option<Value> {
    if let Ok(v) = value.get::<&str>() {
        return Some(Value::from(v));
    }
    if let Ok(v) = value.get::<bool>() {
        return Some(Value::from(v));
    }
    macro_rules! try_num {
        ($($t:ty),*) => {$(
            if let Ok(v) = value.get::<$t>() {
                return serde_json::Number::from_f64(v as f64).map(Value::Number);
            }
        )*};
    }
    try_num!(f64, f32, i32, u32, i64, u64);
    if let Ok(s) = value.get::<gst::Structure>() {
        return Some(Value::Object(structure_to_json(&s)));
    }
    // Enums (stats type, candidate type, ...): their nick.
    if let Some((_, ev)) = glib::EnumValue::from_value(value) {
        return Some(Value::from(ev.nick()));
    }
    None
}

fn structure_to_json(s: &gst::StructureRef) -> Record {
    let mut map = Record::new();
    for (name, value) in s.iter() {
        if let Some(v) = to_json(value) {
            map.insert(camel(name), v);
        }
    }
    map
}

/// Flattens a `get-stats` reply into records in browsers' shape (kinds from `announced`, the
/// descriptions' SSRCs; see [`crate::stats_shape`]) and adds our counters: frames decoded,
/// frame size and audio level (inbound-rtp), frames encoded (outbound-rtp).
pub(crate) fn records(
    reply: &gst::StructureRef,
    counters: &Counters,
    announced: &[(u64, &'static str)],
) -> Vec<Value> {
    let flat: Vec<Record> = reply
        .iter()
        .filter_map(|(_, value)| value.get::<gst::Structure>().ok())
        .map(|s| structure_to_json(&s))
        .collect();
    let mut out = browser_shaped(flat, announced);
    for map in &mut out {
        let kind = map.get("kind").and_then(Value::as_str).map(str::to_owned);
        match (map.get("type").and_then(Value::as_str), kind.as_deref()) {
            (Some("inbound-rtp"), Some("video")) => {
                map.insert(
                    "framesDecoded".into(),
                    counters.frames_decoded.load(Ordering::Relaxed).into(),
                );
                map.insert(
                    "frameWidth".into(),
                    counters.frame_width.load(Ordering::Relaxed).into(),
                );
                map.insert(
                    "frameHeight".into(),
                    counters.frame_height.load(Ordering::Relaxed).into(),
                );
            }
            (Some("inbound-rtp"), Some("audio")) => {
                if let Some(n) = serde_json::Number::from_f64(counters.audio_level()) {
                    map.insert("audioLevel".into(), Value::Number(n));
                }
            }
            (Some("outbound-rtp"), Some("video")) => {
                map.insert(
                    "framesEncoded".into(),
                    counters.frames_encoded.load(Ordering::Relaxed).into(),
                );
            }
            _ => {}
        }
    }
    out.into_iter().map(Value::Object).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_become_camel_case() {
        assert_eq!(super::camel("bytes-received"), "bytesReceived");
        assert_eq!(super::camel("id"), "id");
    }
}
