//! Wall-clock bar code drawn into sent frames, for the end-to-end latency benchmark: 32 blocks
//! of 16x16 luma pixels at (16 + 16*i, 16), white for a 1 bit, carrying `unix_ms mod 2^32`,
//! most significant bit first. The receiver reads the block centres and subtracts.

use std::time::{SystemTime, UNIX_EPOCH};

use gst::prelude::*;

/// Bits in the code.
pub const BITS: u32 = 32;
/// Block edge in pixels.
pub const BLOCK: usize = 16;

/// Milliseconds since the epoch, mod 2^32.
pub fn now_ms32() -> u32 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    (ms & 0xffff_ffff) as u32
}

/// Paints `value` into an I420 luma plane (`stride` bytes per row).
pub fn paint(luma: &mut [u8], stride: usize, value: u32) {
    paint_blocks(luma, stride, value, BLOCK);
}

/// Paints `value` with blocks of `block` pixels: a frame the sender scaled down (CPU
/// adaptation) carries the code where scaling a full-size frame would have put it, which is
/// where the receiving benchmark page looks.
fn paint_blocks(luma: &mut [u8], stride: usize, value: u32, block: usize) {
    for bit in 0..BITS as usize {
        let on = (value >> (BITS as usize - 1 - bit)) & 1 == 1;
        let shade = if on { 235 } else { 16 };
        let x0 = block + bit * block;
        for y in block..2 * block {
            let row = y * stride;
            if let Some(line) = luma.get_mut(row + x0..row + x0 + block) {
                line.fill(shade);
            }
        }
    }
}

/// Reads the code back from a luma plane.
pub fn read(luma: &[u8], stride: usize) -> u32 {
    let mut value = 0u32;
    for bit in 0..BITS as usize {
        let at = (BLOCK + BLOCK / 2) * stride + BLOCK + bit * BLOCK + BLOCK / 2;
        let on = luma.get(at).copied().unwrap_or(0) > 128;
        value = (value << 1) | u32::from(on);
    }
    value
}

/// Stamps every I420 buffer passing `pad` with the time it passed, blocks scaled by the
/// frame's width over `full_width` (the configured width).
pub(crate) fn install(pad: &gst::Pad, full_width: u32) {
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let Some(caps) = pad.current_caps() else {
            return gst::PadProbeReturn::Ok;
        };
        let Ok(vinfo) = gst_video::VideoInfo::from_caps(&caps) else {
            return gst::PadProbeReturn::Ok;
        };
        if let Some(buffer) = info.buffer_mut() {
            let buffer = buffer.make_mut();
            if let Ok(mut frame) =
                gst_video::VideoFrameRef::from_buffer_ref_writable(buffer, &vinfo)
            {
                let stride = frame.plane_stride()[0] as usize;
                if let Ok(luma) = frame.plane_data_mut(0) {
                    let block = BLOCK * vinfo.width() as usize / full_width.max(1) as usize;
                    paint_blocks(luma, stride, now_ms32(), block.max(1));
                }
            }
        }
        gst::PadProbeReturn::Ok
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_round_trips() {
        let stride = 640;
        let mut plane = vec![0u8; stride * 64];
        for v in [0u32, 1, 0xdead_beef, u32::MAX] {
            paint(&mut plane, stride, v);
            assert_eq!(read(&plane, stride), v);
        }
    }
}
