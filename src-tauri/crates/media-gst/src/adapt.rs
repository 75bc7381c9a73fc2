//! CPU adaptation of the video send size, as browsers do it: when the encoder cannot keep up
//! with the camera, send a smaller picture; when it keeps up easily again, a larger one.
//!
//! The one-frame leaky queue in front of the encoder is the meter: a frame it drops is a frame
//! the encoder had no time for. Both ends of the queue are counted in pad probes, and the
//! counts are judged every [`WINDOW`] from inside the probe on the queue's input (no timer, no
//! thread: with no frames there is nothing to judge). A step changes the caps of the raw
//! capsfilter before the queue; videoscale then scales, and the encoder starts a new stream at
//! the new size with a keyframe.
//!
//! Until ICE and DTLS are up, webrtcbin holds the first encoded frame, so the queue drops
//! everything then through no fault of the encoder. Judging therefore starts only once the
//! encoder has taken its second frame, which proves the first one went through; and a window
//! never counts more frames offered than the camera makes in it (see [`at_camera_pace`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gst::prelude::*;

/// How long one judged window lasts.
pub(crate) const WINDOW: Duration = Duration::from_secs(2);
/// Below this share of frames encoded, a window counts as "cannot keep up".
const LOW: f64 = 0.85;
/// Windows in a row below [`LOW`] before stepping down.
const LOW_WINDOWS: u32 = 2;
/// At or above this share, a window counts as "keeps up comfortably".
const HIGH: f64 = 0.97;
/// Windows in a row at or above [`HIGH`] before stepping up (10 s).
const HIGH_WINDOWS: u32 = 5;
/// The most windows a step up waits after repeated failed attempts (80 s).
const MAX_HIGH_WINDOWS: u32 = 40;
/// A step down this soon (in windows) after a step up means the step up failed.
const FAILED_UP_WINDOWS: u32 = 5;
/// Fewer frames than this in a window (camera off) say nothing about the encoder.
const MIN_FRAMES: u64 = 10;
/// Smallest width a step down goes to.
const MIN_WIDTH: u32 = 160;

/// The raw video caps the send chain encodes: I420, square pixels, fixed size and rate.
pub(crate) fn raw_caps(width: u32, height: u32, fps: u32) -> gst::Caps {
    gst::Caps::builder("video/x-raw")
        .field("format", "I420")
        .field("width", width.min(i32::MAX as u32) as i32)
        .field("height", height.min(i32::MAX as u32) as i32)
        .field(
            "framerate",
            gst::Fraction::new(fps.min(i32::MAX as u32) as i32, 1),
        )
        // Square pixels: a source of another shape (a wide screen) is letterboxed by
        // videoscale rather than squashed.
        .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
        .build()
}

/// The sizes the sender may use, largest first, and the rules for moving between them.
#[derive(Debug)]
pub(crate) struct Ladder {
    rungs: Vec<(u32, u32)>,
    at: usize,
    low_streak: u32,
    high_streak: u32,
    /// Windows at [`HIGH`] needed to step up; grows after each failed step up.
    up_after: u32,
    /// Windows since the last step up, while it may still turn out to have failed.
    since_up: Option<u32>,
}

/// Rounds down to an even number (I420 needs even sizes), at least 2.
fn even(v: u32) -> u32 {
    (v & !1).max(2)
}

impl Ladder {
    /// Rungs at 1, 3/4, 1/2 and 1/4 of `width`x`height`, none narrower than [`MIN_WIDTH`]
    /// (the configured size always stays, however small).
    pub(crate) fn new(width: u32, height: u32) -> Self {
        let mut rungs = vec![(width, height)];
        for (num, den) in [(3u64, 4u64), (1, 2), (1, 4)] {
            let scale = |v: u32| even((u64::from(v) * num / den) as u32);
            let rung = (scale(width), scale(height));
            if rung.0 >= MIN_WIDTH && rungs.last().is_some_and(|last| *last != rung) {
                rungs.push(rung);
            }
        }
        Self {
            rungs,
            at: 0,
            low_streak: 0,
            high_streak: 0,
            up_after: HIGH_WINDOWS,
            since_up: None,
        }
    }

    /// The size to send now.
    pub(crate) fn size(&self) -> (u32, u32) {
        self.rungs.get(self.at).copied().unwrap_or_default()
    }

    /// Judges one window in which `offered` frames reached the encoder's queue and the encoder
    /// took `taken`; returns the new size when the sender should change it.
    pub(crate) fn judge(&mut self, offered: u64, taken: u64) -> Option<(u32, u32)> {
        if offered < MIN_FRAMES {
            self.low_streak = 0;
            self.high_streak = 0;
            return None;
        }
        self.since_up = self.since_up.map(|n| n + 1);
        let kept = taken as f64 / offered as f64;
        if kept < LOW {
            self.high_streak = 0;
            self.low_streak += 1;
            if self.low_streak >= LOW_WINDOWS && self.at + 1 < self.rungs.len() {
                self.low_streak = 0;
                self.up_after = match self.since_up.take() {
                    // The larger size was too much again: wait longer before the next try.
                    Some(n) if n <= FAILED_UP_WINDOWS => (self.up_after * 2).min(MAX_HIGH_WINDOWS),
                    _ => HIGH_WINDOWS,
                };
                self.at += 1;
                return Some(self.size());
            }
        } else if kept >= HIGH {
            self.low_streak = 0;
            self.high_streak += 1;
            if self.high_streak >= self.up_after && self.at > 0 {
                self.high_streak = 0;
                self.since_up = Some(0);
                self.at -= 1;
                return Some(self.size());
            }
        } else {
            self.low_streak = 0;
            self.high_streak = 0;
        }
        None
    }
}

/// The frames a window offered the encoder, at most what the camera makes in `elapsed`.
///
/// A live test source that was held up (an upstream query waits for the queue to drain, and
/// the queue cannot drain while webrtcbin holds the first frame until DTLS is up) then pushes
/// every frame it owes at once; the queue drops that backlog, and that is no fault of the
/// encoder.
fn at_camera_pace(offered: u64, elapsed: Duration, fps: u32) -> u64 {
    let most = (elapsed.as_secs_f64() * f64::from(fps)).ceil() as u64;
    offered.min(most)
}

/// Where the current window started.
struct Window {
    ladder: Ladder,
    /// `None` until the encoder has taken its second frame (see the module docs).
    started: Option<(Instant, u64, u64)>,
}

/// Counts and judges one video send chain.
pub(crate) struct Adapter {
    raw: gst::Element,
    fps: u32,
    /// Frames into the queue before the encoder.
    offered: AtomicU64,
    /// Frames the encoder took from it.
    taken: AtomicU64,
    window: Mutex<Window>,
}

impl Adapter {
    /// Watches the queue `queue` that feeds the encoder and steps `raw`'s caps, starting at
    /// `width`x`height`.
    pub(crate) fn install(
        queue: &gst::Element,
        raw: &gst::Element,
        width: u32,
        height: u32,
        fps: u32,
    ) -> Arc<Self> {
        let adapter = Arc::new(Self {
            raw: raw.clone(),
            fps,
            offered: AtomicU64::new(0),
            taken: AtomicU64::new(0),
            window: Mutex::new(Window {
                ladder: Ladder::new(width, height),
                started: None,
            }),
        });
        if let Some(pad) = queue.static_pad("sink") {
            let weak = Arc::downgrade(&adapter);
            pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                if let Some(adapter) = weak.upgrade() {
                    adapter.offered.fetch_add(1, Ordering::Relaxed);
                    adapter.tick();
                }
                gst::PadProbeReturn::Ok
            });
        }
        adapter
    }

    /// Counts the frames `first` (the first element of the encoder chain) takes.
    pub(crate) fn watch_encoder(self: &Arc<Self>, first: &gst::Element) {
        if let Some(pad) = first.static_pad("sink") {
            let weak = Arc::downgrade(self);
            pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                if let Some(adapter) = weak.upgrade() {
                    adapter.taken.fetch_add(1, Ordering::Relaxed);
                }
                gst::PadProbeReturn::Ok
            });
        }
    }

    /// Judges the window if it is over (called for each frame into the queue).
    fn tick(&self) {
        // Only the capture thread calls this; a lock held elsewhere just skips a frame.
        let Ok(mut window) = self.window.try_lock() else {
            return;
        };
        let now = Instant::now();
        let offered = self.offered.load(Ordering::Relaxed);
        let taken = self.taken.load(Ordering::Relaxed);
        let Some((since, offered0, taken0)) = window.started else {
            if taken >= 2 {
                window.started = Some((now, offered, taken));
            }
            return;
        };
        if now.duration_since(since) < WINDOW {
            return;
        }
        window.started = Some((now, offered, taken));
        let in_window = at_camera_pace(
            offered.saturating_sub(offered0),
            now.duration_since(since),
            self.fps,
        );
        let out_window = taken.saturating_sub(taken0);
        let before = window.ladder.size();
        if let Some((width, height)) = window.ladder.judge(in_window, out_window) {
            let kept = (out_window * 100 / in_window.max(1)).min(100);
            tracing::info!(
                "video send size {}x{} -> {width}x{height}: encoder kept {kept} % of frames",
                before.0,
                before.1
            );
            self.raw
                .set_property("caps", raw_caps(width, height, self.fps));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rungs_are_even_and_not_too_narrow() {
        assert_eq!(
            Ladder::new(1280, 720).rungs,
            vec![(1280, 720), (960, 540), (640, 360), (320, 180)]
        );
        assert_eq!(
            Ladder::new(320, 240).rungs,
            vec![(320, 240), (240, 180), (160, 120)]
        );
        assert_eq!(Ladder::new(642, 362).rungs[1], (480, 270));
        assert_eq!(Ladder::new(160, 120).rungs, vec![(160, 120)]);
    }

    #[test]
    fn steps_down_after_two_slow_windows_and_stops_at_the_floor() {
        let mut l = Ladder::new(640, 480);
        assert_eq!(l.judge(60, 40), None);
        assert_eq!(l.judge(60, 40), Some((480, 360)));
        // One slow window between good ones does nothing.
        assert_eq!(l.judge(60, 40), None);
        assert_eq!(l.judge(60, 55), None);
        assert_eq!(l.judge(60, 40), None);
        assert_eq!(l.judge(60, 40), Some((320, 240)));
        assert_eq!(l.judge(60, 10), None);
        assert_eq!(l.judge(60, 10), Some((160, 120)));
        assert_eq!(l.judge(60, 10), None);
        assert_eq!(l.judge(60, 10), None);
        assert_eq!(l.size(), (160, 120));
    }

    #[test]
    fn a_backlog_burst_counts_as_the_camera_pace() {
        let two_s = Duration::from_secs(2);
        assert_eq!(at_camera_pace(245, two_s, 30), 60);
        assert_eq!(at_camera_pace(50, two_s, 30), 50);
        assert_eq!(at_camera_pace(61, Duration::from_millis(2010), 30), 61);
    }

    #[test]
    fn too_few_frames_are_not_judged() {
        let mut l = Ladder::new(640, 480);
        for _ in 0..10 {
            assert_eq!(l.judge(5, 0), None);
        }
        assert_eq!(l.judge(60, 40), None);
        assert_eq!(l.judge(0, 0), None);
        assert_eq!(
            l.judge(60, 40),
            None,
            "a camera-off window breaks the streak"
        );
    }

    #[test]
    fn steps_up_after_a_long_easy_spell_and_waits_longer_after_a_failed_try() {
        let mut l = Ladder::new(640, 480);
        l.judge(60, 40);
        assert_eq!(l.judge(60, 40), Some((480, 360)));
        for _ in 0..HIGH_WINDOWS - 1 {
            assert_eq!(l.judge(60, 60), None);
        }
        assert_eq!(l.judge(60, 60), Some((640, 480)));
        // Too slow again at once: back down, and the next try waits twice as long.
        l.judge(60, 40);
        assert_eq!(l.judge(60, 40), Some((480, 360)));
        for _ in 0..2 * HIGH_WINDOWS - 1 {
            assert_eq!(l.judge(60, 60), None);
        }
        assert_eq!(l.judge(60, 60), Some((640, 480)));
        // In between (85..97 %) neither streak grows.
        let mut l = Ladder::new(640, 480);
        l.judge(60, 40);
        l.judge(60, 40);
        for _ in 0..50 {
            assert_eq!(l.judge(60, 55), None);
        }
        assert_eq!(l.size(), (480, 360));
    }
}
