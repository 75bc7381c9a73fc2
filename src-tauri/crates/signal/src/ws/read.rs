//! Reading client frames (RFC 6455, section 5) without I/O: bytes in, whole messages out.
//!
//! Built for memory per idle connection: the caller reads into a buffer of its own (on the
//! stack), frames wholly inside it are unmasked and handed out in place, and only a frame or
//! fragmented message that spans reads is copied into heap buffers, which are freed as soon
//! as it is complete. A reader between messages holds no heap memory.

/// Close codes this reader asks for (RFC 6455, 7.4.1).
pub(crate) mod close {
    /// A frame broke the protocol.
    pub(crate) const PROTOCOL: u16 = 1002;
    /// A text message (or close reason) was not UTF-8.
    pub(crate) const BAD_DATA: u16 = 1007;
    /// A message was over the size limit.
    pub(crate) const TOO_BIG: u16 = 1009;
}

const OP_CONTINUATION: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// Longest control frame payload (RFC 6455, 5.5).
const MAX_CONTROL: usize = 125;

/// A whole message or control frame from the client, borrowed from the reader's input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Incoming<'a> {
    /// A text message, valid UTF-8.
    Text(&'a str),
    /// A binary message (its bytes are of no use to this server).
    Binary,
    /// A ping; the reply is a pong with the same payload.
    Ping(&'a [u8]),
    /// A pong.
    Pong,
    /// A close frame: the peer's code (none if it gave none) and reason.
    Close(Option<u16>, &'a str),
}

/// Why the connection must be closed, with the close code to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Violation {
    /// Close code (one of [`close`]).
    pub(crate) code: u16,
    /// Short reason for the close frame.
    pub(crate) reason: &'static str,
}

impl Violation {
    fn protocol(reason: &'static str) -> Self {
        Self {
            code: close::PROTOCOL,
            reason,
        }
    }
}

/// What the caller wants after a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Keep reading the input.
    Continue,
    /// Stop: the rest of the input is not wanted (the connection is closing).
    Stop,
}

/// Reassembles client frames into messages; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct FrameReader {
    /// Boxed: a pointer while idle, the buffers only while something spans reads.
    partial: Option<Box<Partial>>,
}

/// What a reader holds between reads: bytes of an unfinished frame or message.
#[derive(Debug, Default)]
struct Partial {
    /// An incomplete frame, header included (empty: none).
    frame: Vec<u8>,
    /// Payloads so far of a fragmented message.
    message: Vec<u8>,
    /// Opcode of the fragmented message being assembled, if any.
    fragmented: Option<u8>,
}

/// A parsed frame header.
struct Header {
    fin: bool,
    opcode: u8,
    mask: [u8; 4],
    header_len: usize,
    payload_len: usize,
}

/// Bytes needed before `bytes` holds a whole frame (header known) or a whole header; `Err` if
/// the header already shows the frame is not acceptable.
fn frame_len(bytes: &[u8], max: usize) -> Result<usize, Violation> {
    let (Some(&b0), Some(&b1)) = (bytes.first(), bytes.get(1)) else {
        return Ok(2);
    };
    if b0 & 0x70 != 0 {
        return Err(Violation::protocol("reserved bits set"));
    }
    if b1 & 0x80 == 0 {
        return Err(Violation::protocol("client frames must be masked"));
    }
    let (header_len, len) = lengths(b1, bytes);
    let Some(len) = len else {
        return Ok(header_len);
    };
    if len >> 63 != 0 {
        return Err(Violation::protocol("payload length has its top bit set"));
    }
    let payload_len = usize::try_from(len).unwrap_or(usize::MAX);
    let opcode = b0 & 0x0F;
    if opcode & 0x8 != 0 && (payload_len > MAX_CONTROL || b0 & 0x80 == 0) {
        return Err(Violation::protocol(
            "control frames are short and unfragmented",
        ));
    }
    if payload_len > max {
        return Err(Violation {
            code: close::TOO_BIG,
            reason: "message too big",
        });
    }
    Ok(header_len + payload_len)
}

/// Header length (mask included) of a frame whose second byte is `b1`, and its payload
/// length once `bytes` holds the extended length field (`None` before).
fn lengths(b1: u8, bytes: &[u8]) -> (usize, Option<u64>) {
    let extra = match b1 & 0x7F {
        126 => 2,
        127 => 8,
        n => return (6, Some(u64::from(n))),
    };
    let len = bytes
        .get(2..2 + extra)
        .map(|ext| ext.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)));
    (2 + extra + 4, len)
}

/// The header of a frame known to be whole (checked by [`frame_len`]).
fn header(bytes: &[u8]) -> Header {
    let byte = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let b0 = byte(0);
    let (header_len, len) = lengths(byte(1), bytes);
    let at = header_len - 4;
    Header {
        fin: b0 & 0x80 != 0,
        opcode: b0 & 0x0F,
        mask: [byte(at), byte(at + 1), byte(at + 2), byte(at + 3)],
        header_len,
        payload_len: usize::try_from(len.unwrap_or(0)).unwrap_or(usize::MAX),
    }
}

fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
}

/// Close codes a peer may send (RFC 6455, 7.4; 1012-1014 registered since).
fn close_code_valid(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// A whole data message: text must be UTF-8.
fn data_message(opcode: u8, bytes: &[u8]) -> Result<Incoming<'_>, Violation> {
    if opcode == OP_TEXT {
        utf8(bytes).map(Incoming::Text)
    } else {
        Ok(Incoming::Binary)
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, Violation> {
    std::str::from_utf8(bytes).map_err(|_| Violation {
        code: close::BAD_DATA,
        reason: "text is not UTF-8",
    })
}

impl FrameReader {
    /// Feeds bytes read from the socket; `on` gets each whole message in order. Messages
    /// (one frame or several fragments) longer than `max` bytes are refused with 1009 as
    /// soon as a header announces them, before anything is buffered.
    pub(crate) fn feed(
        &mut self,
        input: &mut [u8],
        max: usize,
        on: &mut dyn FnMut(Incoming<'_>) -> Flow,
    ) -> Result<Flow, Violation> {
        // Unboxed while reading: no allocation unless something is left over.
        let mut partial = self.partial.take().map_or_else(Partial::default, |p| *p);
        let fed = partial.feed(input, max, on);
        let empty = partial.frame.capacity() == 0 && partial.message.capacity() == 0;
        if !empty || partial.fragmented.is_some() {
            self.partial = Some(Box::new(partial));
        }
        fed
    }

    /// True while no partial frame or message is held (and so no heap memory).
    #[cfg(test)]
    pub(crate) fn is_idle(&self) -> bool {
        self.partial.is_none()
    }

    /// Bytes held of partial frames and messages.
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> usize {
        self.partial
            .as_ref()
            .map_or(0, |p| p.frame.len() + p.message.len())
    }
}

impl Partial {
    /// [`FrameReader::feed`]'s work.
    fn feed(
        &mut self,
        mut input: &mut [u8],
        max: usize,
        on: &mut dyn FnMut(Incoming<'_>) -> Flow,
    ) -> Result<Flow, Violation> {
        if !self.frame.is_empty() {
            // Finish the frame that spans reads first.
            loop {
                let need = frame_len(&self.frame, max)?;
                if self.frame.len() >= need {
                    break;
                }
                self.frame.reserve_exact(need - self.frame.len());
                let missing = need - self.frame.len();
                if input.len() < missing {
                    self.frame.extend_from_slice(input);
                    return Ok(Flow::Continue);
                }
                let (take, rest) = std::mem::take(&mut input).split_at_mut(missing);
                self.frame.extend_from_slice(take);
                input = rest;
            }
            let mut frame = std::mem::take(&mut self.frame);
            let flow = self.frame_done(&mut frame, max, on)?;
            if flow == Flow::Stop {
                return Ok(flow);
            }
        }
        while !input.is_empty() {
            let need = frame_len(input, max)?;
            if input.len() < need {
                // Reserve the whole frame once its length is known (not on a bare header).
                if need > 14 {
                    self.frame.reserve_exact(need);
                }
                self.frame.extend_from_slice(input);
                return Ok(Flow::Continue);
            }
            let (frame, rest) = std::mem::take(&mut input).split_at_mut(need);
            if self.frame_done(frame, max, on)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
            input = rest;
        }
        Ok(Flow::Continue)
    }

    /// Handles one whole frame (header and masked payload).
    fn frame_done(
        &mut self,
        frame: &mut [u8],
        max: usize,
        on: &mut dyn FnMut(Incoming<'_>) -> Flow,
    ) -> Result<Flow, Violation> {
        let head = header(frame);
        let payload = frame.get_mut(head.header_len..).unwrap_or_default();
        unmask(payload, head.mask);
        match head.opcode {
            OP_PING => Ok(on(Incoming::Ping(payload))),
            OP_PONG => Ok(on(Incoming::Pong)),
            OP_CLOSE => {
                let (code, reason) = match &*payload {
                    [] => (None, &[][..]),
                    [_] => return Err(Violation::protocol("close payload of one byte")),
                    [hi, lo, reason @ ..] => (Some(u16::from_be_bytes([*hi, *lo])), reason),
                };
                if code.is_some_and(|c| !close_code_valid(c)) {
                    return Err(Violation::protocol("invalid close code"));
                }
                Ok(on(Incoming::Close(code, utf8(reason)?)))
            }
            OP_TEXT | OP_BINARY if self.fragmented.is_some() => {
                Err(Violation::protocol("new message inside a fragmented one"))
            }
            OP_TEXT | OP_BINARY if head.fin => Ok(on(data_message(head.opcode, payload)?)),
            OP_TEXT | OP_BINARY => {
                self.fragmented = Some(head.opcode);
                self.message = payload.to_vec();
                Ok(Flow::Continue)
            }
            OP_CONTINUATION => {
                let Some(op) = self.fragmented else {
                    return Err(Violation::protocol("continuation without a message"));
                };
                if self.message.len() + head.payload_len > max {
                    return Err(Violation {
                        code: close::TOO_BIG,
                        reason: "message too big",
                    });
                }
                self.message.extend_from_slice(payload);
                if !head.fin {
                    return Ok(Flow::Continue);
                }
                self.fragmented = None;
                let message = std::mem::take(&mut self.message);
                Ok(on(data_message(op, &message)?))
            }
            _ => Err(Violation::protocol("unknown opcode")),
        }
    }
}
