//! Property test: arbitrary message sequences from several connections, in both modes, never
//! panic the hub and never break its invariants (capacity, membership, knocks).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use parley_protocol::{
    ClientMessage, KnockId, Media, PeerId, Resume, ServerMessage, decode_client,
};
use parley_signal::IceConfig;
use parley_signal::hub::{
    ConnId, Effect, Entropy, EntropyError, Hub, HubConfig, MemoryRooms, Now, Policy,
};
use proptest::prelude::*;

const TOKEN: &str = "owner-token";
const SLOTS: usize = 5;

/// Deterministic bytes (xorshift), with few distinct values so collisions get exercised, and
/// failing every `fail_every`th call (0: never) so half-done operations would show.
struct TestEntropy {
    state: u64,
    narrow: bool,
    fail_every: u32,
    calls: u32,
}

impl Entropy for TestEntropy {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), EntropyError> {
        self.calls += 1;
        if self.fail_every > 0 && self.calls.is_multiple_of(self.fail_every) {
            return Err(EntropyError("test failure".into()));
        }
        for b in buf {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            // Narrow values make room-code and peer-id collisions likely.
            *b = if self.narrow {
                (self.state % 3) as u8
            } else {
                self.state as u8
            };
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
enum Op {
    Hello {
        owner: bool,
        good_token: bool,
        resume: Option<usize>,
    },
    Create,
    Join(usize),
    JoinTyped(String),
    Leave,
    Signal(usize),
    Ping,
    Knock,
    Accept(usize),
    Decline(usize),
    Cancel,
    Disconnect,
    Advance(u16),
    Raw(String),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<bool>(), any::<bool>(), proptest::option::of(0usize..16))
            .prop_map(|(owner, good_token, resume)| Op::Hello { owner, good_token, resume }),
        2 => Just(Op::Create),
        3 => (0usize..16).prop_map(Op::Join),
        1 => "[0-9A-Za-z-]{0,10}".prop_map(Op::JoinTyped),
        1 => Just(Op::Leave),
        3 => (0usize..16).prop_map(Op::Signal),
        1 => Just(Op::Ping),
        2 => Just(Op::Knock),
        2 => (0usize..16).prop_map(Op::Accept),
        1 => (0usize..16).prop_map(Op::Decline),
        1 => Just(Op::Cancel),
        2 => Just(Op::Disconnect),
        1 => (0u16..40).prop_map(Op::Advance),
        1 => any::<String>().prop_map(Op::Raw),
    ]
}

/// What the test has learnt from the hub's output, to aim later messages at real things.
#[derive(Default)]
struct Seen {
    identities: Vec<(PeerId, String)>,
    codes: Vec<String>,
    knocks: Vec<KnockId>,
}

impl Seen {
    fn learn(&mut self, effects: &[Effect]) {
        for effect in effects {
            if let Effect::Send(_, msg) = effect {
                match msg {
                    ServerMessage::Welcome {
                        peer_id,
                        resume_token,
                        ..
                    } => self
                        .identities
                        .push((peer_id.clone(), resume_token.clone())),
                    ServerMessage::Created { code, .. } | ServerMessage::Joined { code, .. } => {
                        self.codes.push(code.to_string())
                    }
                    ServerMessage::Incoming { knock, .. } => self.knocks.push(knock.clone()),
                    _ => {}
                }
            }
        }
    }
}

fn pick<T: Clone>(items: &[T], i: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[i % items.len()].clone())
}

fn run(
    policy: Policy,
    grace_ms: u64,
    narrow: bool,
    seed: u64,
    fail_every: u32,
    ops: Vec<(usize, Op)>,
) {
    let config = HubConfig {
        policy: policy.clone(),
        ice: IceConfig::none(),
        resume_grace: Duration::from_millis(grace_ms),
        server_name: "test".into(),
    };
    let rng = Box::new(TestEntropy {
        state: seed | 1,
        narrow,
        fail_every,
        calls: 0,
    });
    let mut hub = Hub::with_parts(config, MemoryRooms::default(), rng);
    let start = Instant::now();
    let mut clock = Duration::ZERO;
    let mut slots: Vec<ConnId> = (0..SLOTS as u64).collect();
    let mut next_conn = SLOTS as u64;
    let mut retired = HashSet::new();
    let mut seen = Seen::default();
    let capacity = match policy {
        Policy::Public { capacity } => capacity,
        Policy::Device { .. } => 2,
    };
    for (slot, op) in ops {
        let slot = slot % SLOTS;
        let conn = slots[slot];
        let now = Now {
            mono: start + clock,
            unix_secs: 1_700_000_000 + clock.as_secs(),
        };
        let msg = match op {
            Op::Hello {
                owner,
                good_token,
                resume,
            } => ClientMessage::Hello {
                version: 1,
                token: owner.then(|| {
                    if good_token {
                        TOKEN.into()
                    } else {
                        "wrong".into()
                    }
                }),
                resume: resume
                    .and_then(|i| pick(&seen.identities, i))
                    .map(|(peer_id, token)| Resume { peer_id, token }),
            },
            Op::Create => ClientMessage::Create {},
            Op::Join(i) => ClientMessage::Join {
                code: pick(&seen.codes, i).unwrap_or_default(),
            },
            Op::JoinTyped(code) => ClientMessage::Join { code },
            Op::Leave => ClientMessage::Leave {},
            Op::Signal(i) => ClientMessage::Signal {
                to: pick(&seen.identities, i).map_or(PeerId("x".into()), |(p, _)| p),
                data: serde_json::json!({"n": i}),
            },
            Op::Ping => ClientMessage::Ping {},
            Op::Knock => ClientMessage::Knock {
                name: "caller".into(),
                device: "dev".into(),
                media: Media::Video,
            },
            Op::Accept(i) => ClientMessage::Accept {
                knock: pick(&seen.knocks, i).unwrap_or(KnockId("none".into())),
            },
            Op::Decline(i) => ClientMessage::Decline {
                knock: pick(&seen.knocks, i).unwrap_or(KnockId("none".into())),
            },
            Op::Cancel => ClientMessage::Cancel {},
            Op::Disconnect => {
                let effects = hub.disconnect(conn, now);
                check(&hub, &effects, &retired, capacity);
                seen.learn(&effects);
                retired.insert(conn);
                slots[slot] = next_conn;
                next_conn += 1;
                continue;
            }
            Op::Advance(ms) => {
                clock += Duration::from_millis(u64::from(ms) * 10);
                let now = Now {
                    mono: start + clock,
                    unix_secs: 1_700_000_000,
                };
                let effects = hub.expire(now);
                check(&hub, &effects, &retired, capacity);
                continue;
            }
            Op::Raw(text) => match decode_client(&text) {
                Ok(msg) => msg,
                Err(err) => {
                    let _ = err.code();
                    continue;
                }
            },
        };
        let effects = hub.handle(conn, msg, now);
        check(&hub, &effects, &retired, capacity);
        seen.learn(&effects);
    }
}

fn check(hub: &Hub, effects: &[Effect], retired: &HashSet<ConnId>, capacity: u8) {
    if let Err(problem) = hub.check_invariants() {
        panic!("invariant broken: {problem}");
    }
    for effect in effects {
        let (Effect::Send(conn, _) | Effect::Close(conn)) = effect;
        assert!(
            !retired.contains(conn),
            "effect for a closed connection: {effect:?}"
        );
        if let Effect::Send(
            _,
            ServerMessage::Joined {
                peers, capacity: c, ..
            },
        ) = effect
        {
            assert!(peers.len() < usize::from(*c) && *c <= capacity.max(2));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn public_mode_keeps_its_invariants(
        capacity in 2u8..=8,
        grace_ms in prop_oneof![Just(0u64), Just(100), Just(15_000)],
        narrow in any::<bool>(),
        seed in any::<u64>(),
        fail_every in prop_oneof![Just(0u32), 2u32..9],
        ops in proptest::collection::vec((0usize..SLOTS, op()), 1..120),
    ) {
        run(Policy::Public { capacity }, grace_ms, narrow, seed, fail_every, ops);
    }

    #[test]
    fn device_mode_keeps_its_invariants(
        grace_ms in prop_oneof![Just(0u64), Just(100), Just(15_000)],
        narrow in any::<bool>(),
        seed in any::<u64>(),
        fail_every in prop_oneof![Just(0u32), 2u32..9],
        ops in proptest::collection::vec((0usize..SLOTS, op()), 1..120),
    ) {
        run(Policy::Device { owner_token: TOKEN.into() }, grace_ms, narrow, seed, fail_every, ops);
    }

    #[test]
    fn arbitrary_frames_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Err(err) = decode_client(&text) {
            let _ = err.code();
        }
    }
}
