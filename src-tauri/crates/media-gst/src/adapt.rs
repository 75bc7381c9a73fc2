//! CPU adaptation of the video send size, as browsers do it: when the encoder cannot keep up
//! with the camera, send a smaller picture; when it keeps up easily again, a larger one.
//!
//! The meter is the encoder's busy time: from a frame entering the encoder chain to its encoded
//! form reaching the payloader, in wall-clock time, so a CPU shared with other work counts as a
//! slower encoder (Chromium's overuse detector likewise weighs encode time against the frame
//! interval). Over a [`WINDOW`], busy time
//! over window length is the encoder's load; near 100 % it has no time left and the one-frame
//! leaky queue before it drops frames. Frames dropped by that queue are not the meter: under
//! load a live source delivers in bursts, the queue keeps only the newest of each burst, and a
//! smaller picture would not change that (measured: drop counting stepped down to 320x180 and
//! still "lost" a quarter of the frames).
//!
//! Everything is measured in pad probes and judged from inside the probe on the queue's input
//! (no timer, no thread: with no frames there is nothing to judge). A step changes the caps of
//! the raw capsfilter before the queue; videoscale then scales, and the encoder starts a new
//! stream at the new size with a keyframe.
//!
//! Until ICE and DTLS are up, webrtcbin holds the first encoded frame. That wait is after the
//! payloader's input, so it is not busy time; judging also starts only once the encoder has
//! taken its second frame, which proves the first one went through.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gst::prelude::*;

/// How long one judged window lasts.
pub(crate) const WINDOW: Duration = Duration::from_secs(2);
/// At or above this encoder load, a window counts as "cannot keep up".
const HIGH_LOAD: f64 = 0.85;
/// Windows in a row at [`HIGH_LOAD`] before stepping down.
const HIGH_WINDOWS: u32 = 2;
/// A window counts as "keeps up comfortably" when its load, grown with the pixels of the next
/// larger rung (16/9 to 4 times), stays below this: the step up then lands well short of
/// [`HIGH_LOAD`].
const UP_LOAD: f64 = 0.75;
/// Windows in a row that keep up comfortably before stepping up (10 s).
const UP_WINDOWS: u32 = 5;
/// The most windows a step up waits after repeated failed attempts (80 s).
const MAX_UP_WINDOWS: u32 = 40;
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
    high_streak: u32,
    low_streak: u32,
    /// Comfortable windows needed to step up; grows after each failed step up.
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
            high_streak: 0,
            low_streak: 0,
            up_after: UP_WINDOWS,
            since_up: None,
        }
    }

    /// How many times the pixels of the next larger rung are those of this one (infinite at the
    /// top: no step up).
    fn growth(&self) -> f64 {
        let pixels = |(w, h): (u32, u32)| f64::from(w) * f64::from(h);
        match self.at.checked_sub(1).and_then(|up| self.rungs.get(up)) {
            Some(&larger) => pixels(larger) / pixels(self.size()).max(1.0),
            None => f64::INFINITY,
        }
    }

    /// The size to send now.
    pub(crate) fn size(&self) -> (u32, u32) {
        self.rungs.get(self.at).copied().unwrap_or_default()
    }

    /// Judges one window in which the encoder took `frames` and was busy for `load` of the
    /// time (0..1); returns the new size when the sender should change it.
    pub(crate) fn judge(&mut self, frames: u64, load: f64) -> Option<(u32, u32)> {
        if frames < MIN_FRAMES {
            self.high_streak = 0;
            self.low_streak = 0;
            return None;
        }
        self.since_up = self.since_up.map(|n| n + 1);
        if load >= HIGH_LOAD {
            self.low_streak = 0;
            self.high_streak += 1;
            if self.high_streak >= HIGH_WINDOWS && self.at + 1 < self.rungs.len() {
                self.high_streak = 0;
                self.up_after = match self.since_up.take() {
                    // The larger size was too much again: wait longer before the next try.
                    Some(n) if n <= FAILED_UP_WINDOWS => (self.up_after * 2).min(MAX_UP_WINDOWS),
                    _ => UP_WINDOWS,
                };
                self.at += 1;
                return Some(self.size());
            }
        } else if load * self.growth() < UP_LOAD {
            self.high_streak = 0;
            self.low_streak += 1;
            if self.low_streak >= self.up_after && self.at > 0 {
                self.low_streak = 0;
                self.since_up = Some(0);
                self.at -= 1;
                return Some(self.size());
            }
        } else {
            self.high_streak = 0;
            self.low_streak = 0;
        }
        None
    }
}

/// The frames a window offered the encoder, at most what the camera makes in `elapsed` (a
/// live source that was held up pushes every frame it owes at once). Only for the log line.
fn at_camera_pace(offered: u64, elapsed: Duration, fps: u32) -> u64 {
    let most = (elapsed.as_secs_f64() * f64::from(fps)).ceil() as u64;
    offered.min(most)
}

/// Counters at the start of the current window.
#[derive(Clone, Copy)]
struct Mark {
    at: Instant,
    offered: u64,
    taken: u64,
    busy_ns: u64,
}

/// The ladder and the current window.
struct Window {
    ladder: Ladder,
    /// `None` until the encoder has taken its second frame (see the module docs).
    started: Option<Mark>,
}

/// Measures and judges one video send chain.
pub(crate) struct Adapter {
    raw: gst::Element,
    fps: u32,
    /// Origin of the times below.
    epoch: Instant,
    /// Frames into the queue before the encoder.
    offered: AtomicU64,
    /// Frames the encoder took from it.
    taken: AtomicU64,
    /// When the frame being encoded went in, in ns since `epoch` plus 1; 0 when idle.
    encoding_since: AtomicU64,
    /// Time spent encoding, in ns.
    busy_ns: AtomicU64,
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
            epoch: Instant::now(),
            offered: AtomicU64::new(0),
            taken: AtomicU64::new(0),
            encoding_since: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
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

    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Times the encoder chain from `first`'s input (a frame taken from the queue) to
    /// `payloader`'s input (that frame encoded).
    pub(crate) fn watch_encoder(self: &Arc<Self>, first: &gst::Element, payloader: &gst::Element) {
        if let Some(pad) = first.static_pad("sink") {
            let weak = Arc::downgrade(self);
            pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                if let Some(adapter) = weak.upgrade() {
                    adapter.taken.fetch_add(1, Ordering::Relaxed);
                    let now = adapter.now_ns().saturating_add(1);
                    adapter.encoding_since.store(now, Ordering::Relaxed);
                }
                gst::PadProbeReturn::Ok
            });
        }
        if let Some(pad) = payloader.static_pad("sink") {
            let weak = Arc::downgrade(self);
            pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                if let Some(adapter) = weak.upgrade() {
                    let since = adapter.encoding_since.swap(0, Ordering::Relaxed);
                    if since > 0 {
                        let spent = adapter.now_ns().saturating_sub(since - 1);
                        adapter.busy_ns.fetch_add(spent, Ordering::Relaxed);
                    }
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
        let now = Mark {
            at: Instant::now(),
            offered: self.offered.load(Ordering::Relaxed),
            taken: self.taken.load(Ordering::Relaxed),
            busy_ns: self.busy_ns.load(Ordering::Relaxed),
        };
        let Some(start) = window.started else {
            if now.taken >= 2 {
                window.started = Some(now);
            }
            return;
        };
        let elapsed = now.at.duration_since(start.at);
        if elapsed < WINDOW {
            return;
        }
        window.started = Some(now);
        let taken = now.taken.saturating_sub(start.taken);
        let load = now.busy_ns.saturating_sub(start.busy_ns) as f64 / elapsed.as_nanos() as f64;
        let before = window.ladder.size();
        let offered = at_camera_pace(now.offered.saturating_sub(start.offered), elapsed, self.fps);
        let kept = (taken * 100 / offered.max(1)).min(100);
        tracing::debug!(
            "video send {}x{}: encoder busy {:.0} % of the time, kept {kept} % of frames",
            before.0,
            before.1,
            load * 100.0
        );
        if let Some((width, height)) = window.ladder.judge(taken, load) {
            tracing::info!(
                "video send size {}x{} -> {width}x{height}: encoder busy {:.0} % of the time, \
                 kept {kept} % of frames",
                before.0,
                before.1,
                load * 100.0
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
    fn steps_down_after_two_busy_windows_and_stops_at_the_floor() {
        let mut l = Ladder::new(640, 480);
        assert_eq!(l.judge(60, 0.9), None);
        assert_eq!(l.judge(60, 0.9), Some((480, 360)));
        // One busy window between easier ones does nothing.
        assert_eq!(l.judge(60, 0.9), None);
        assert_eq!(l.judge(60, 0.6), None);
        assert_eq!(l.judge(60, 0.9), None);
        assert_eq!(l.judge(60, 1.0), Some((320, 240)));
        assert_eq!(l.judge(60, 1.0), None);
        assert_eq!(l.judge(60, 1.0), Some((160, 120)));
        assert_eq!(l.judge(60, 1.0), None);
        assert_eq!(l.judge(60, 1.0), None);
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
    fn a_step_up_needs_room_for_the_larger_picture() {
        let mut l = Ladder::new(1280, 720);
        for _ in 0..4 {
            l.judge(60, 0.9);
        }
        assert_eq!(l.size(), (640, 360));
        // 40 % at 640x360 would be 90 % at 960x540 (2.25 times the pixels): stay.
        for _ in 0..20 {
            assert_eq!(l.judge(60, 0.4), None);
        }
        for _ in 0..UP_WINDOWS - 1 {
            assert_eq!(l.judge(60, 0.3), None);
        }
        assert_eq!(l.judge(60, 0.3), Some((960, 540)));
    }

    #[test]
    fn too_few_frames_are_not_judged() {
        let mut l = Ladder::new(640, 480);
        for _ in 0..10 {
            assert_eq!(l.judge(5, 1.0), None);
        }
        assert_eq!(l.judge(60, 0.9), None);
        assert_eq!(l.judge(0, 0.0), None);
        assert_eq!(
            l.judge(60, 0.9),
            None,
            "a camera-off window breaks the streak"
        );
    }

    #[test]
    fn steps_up_after_a_long_easy_spell_and_waits_longer_after_a_failed_try() {
        let mut l = Ladder::new(640, 480);
        l.judge(60, 0.9);
        assert_eq!(l.judge(60, 0.9), Some((480, 360)));
        for _ in 0..UP_WINDOWS - 1 {
            assert_eq!(l.judge(60, 0.3), None);
        }
        assert_eq!(l.judge(60, 0.3), Some((640, 480)));
        // Too busy again at once: back down, and the next try waits twice as long.
        l.judge(60, 0.9);
        assert_eq!(l.judge(60, 0.9), Some((480, 360)));
        for _ in 0..2 * UP_WINDOWS - 1 {
            assert_eq!(l.judge(60, 0.3), None);
        }
        assert_eq!(l.judge(60, 0.3), Some((640, 480)));
        // In between (too busy to grow 16/9 times, not busy enough to shrink) nothing moves.
        let mut l = Ladder::new(640, 480);
        l.judge(60, 0.9);
        l.judge(60, 0.9);
        for _ in 0..50 {
            assert_eq!(l.judge(60, 0.6), None);
        }
        assert_eq!(l.size(), (480, 360));
    }
}
