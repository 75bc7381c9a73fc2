//! Encoding server frames (RFC 6455, section 5.2): unmasked, unfragmented.

const OP_TEXT: u8 = 0x1;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// Appends one final frame with this opcode and payload to `out`.
fn frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    out.push(0x80 | opcode);
    match u16::try_from(payload.len()) {
        Ok(len @ 0..=125) => out.push(len as u8),
        Ok(len) => {
            out.push(126);
            out.extend_from_slice(&len.to_be_bytes());
        }
        Err(_) => {
            out.push(127);
            out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

/// Appends a text frame.
pub(crate) fn text(out: &mut Vec<u8>, text: &str) {
    frame(out, OP_TEXT, text.as_bytes());
}

/// Appends a ping with an empty payload.
pub(crate) fn ping(out: &mut Vec<u8>) {
    frame(out, OP_PING, &[]);
}

/// Appends the pong answering a ping with this payload.
pub(crate) fn pong(out: &mut Vec<u8>, payload: &[u8]) {
    frame(out, OP_PONG, payload);
}

/// Appends a close frame; no code gives an empty payload. The reason is cut to fit a
/// control frame (125 bytes with the code) at a character boundary.
pub(crate) fn close(out: &mut Vec<u8>, code: Option<u16>, reason: &str) {
    let Some(code) = code else {
        return frame(out, OP_CLOSE, &[]);
    };
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = [0u8; 125];
    let [hi, lo] = code.to_be_bytes();
    payload[0] = hi;
    payload[1] = lo;
    payload[2..2 + end].copy_from_slice(&reason.as_bytes()[..end]);
    frame(out, OP_CLOSE, &payload[..2 + end]);
}
