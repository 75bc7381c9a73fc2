//! Command line.

use parley_media_gst::{
    AudioOutput, AudioSource, MediaOptions, VideoCodec, VideoOutput, VideoSource,
};

pub(crate) const USAGE: &str = "usage: parley-native-peer --server ws://HOST:PORT/ws (--join CODE | --create) \
[--width N] [--height N] [--fps N] [--pattern ball] [--stamp] [--speaker] [--no-processing] [--no-audio] \
[--video-output count|rgba|jpeg] [--kbps N] [--video-codecs vp8,h264] [--no-adapt] [--encoder-delay-ms N]";

/// Parsed options.
pub(crate) struct Args {
    pub(crate) server: String,
    /// Room code to join; `None` creates a room and prints its code.
    pub(crate) join: Option<String>,
    pub(crate) media: MediaOptions,
}

impl Args {
    pub(crate) fn parse(mut it: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut server = None;
        let mut join = None;
        let mut create = false;
        let mut media = MediaOptions {
            video: VideoSource::Test {
                pattern: "ball".into(),
            },
            audio: AudioSource::Test { freq: 440 },
            audio_output: AudioOutput::Discard,
            video_output: VideoOutput::CountOnly,
            ..MediaOptions::default()
        };
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
            let num = |v: String| v.parse::<u32>().map_err(|e| format!("{v}: {e}"));
            match flag.as_str() {
                "--server" => server = Some(value()?),
                "--join" => join = Some(value()?),
                "--create" => create = true,
                "--width" => media.width = num(value()?)?,
                "--height" => media.height = num(value()?)?,
                "--fps" => media.fps = num(value()?)?,
                "--kbps" => media.video_kbps = num(value()?)?,
                // Offered and accepted, most preferred first: `h264` alone forces H.264.
                "--video-codecs" => {
                    media.video_codecs = value()?
                        .split(',')
                        .map(|c| match c {
                            "vp8" => Ok(VideoCodec::Vp8),
                            "h264" => Ok(VideoCodec::H264),
                            other => Err(format!("unknown video codec {other}")),
                        })
                        .collect::<Result<_, _>>()?
                }
                "--pattern" => media.video = VideoSource::Test { pattern: value()? },
                "--stamp" => media.stamp_clock = true,
                // Keep the configured size even when the encoder falls behind.
                "--no-adapt" => media.adapt_video_size = false,
                // Benchmark knob: a slow encoder without loading the machine.
                "--encoder-delay-ms" => media.encoder_delay_ms = num(value()?)?,
                "--speaker" => media.audio_output = AudioOutput::Speaker { id: None },
                "--no-processing" => media.audio_processing = false,
                "--no-audio" => media.audio = AudioSource::None,
                "--video-output" => {
                    media.video_output = match value()?.as_str() {
                        "count" => VideoOutput::CountOnly,
                        "rgba" => VideoOutput::Rgba,
                        "jpeg" => VideoOutput::Jpeg,
                        other => return Err(format!("unknown video output {other}")),
                    }
                }
                other => return Err(format!("unknown flag {other}")),
            }
        }
        let server = server.ok_or("--server is required")?;
        if join.is_none() && !create {
            return Err("--join CODE or --create is required".into());
        }
        Ok(Self {
            server,
            join,
            media,
        })
    }
}
