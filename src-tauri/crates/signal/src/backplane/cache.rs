//! Each instance's copy of the member lists of the rooms its connections are in, so a signal
//! is routed without a Redis round trip.
//!
//! Redis stays the authority: every membership change (a Lua script) gives the room a new
//! version, taken from one counter that only grows, and publishes the new list to every
//! instance holding a member, before any frame about the change. A copy is replaced only by
//! a newer version, so snapshots may arrive in any order (a script's reply and the pub/sub
//! copy of a later change race) and the newest wins. The heartbeat reads the current list
//! with every touch, which heals a copy that missed a message (pub/sub lost during a Redis
//! blip) within one beat.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use parley_protocol::{PeerId, RoomCode};

/// A room's connected members at one version: `<ver> <peer>=<instance> ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Snapshot {
    ver: u64,
    members: Vec<(PeerId, Arc<str>)>,
}

impl Snapshot {
    /// Reads the text the scripts produce; `None` if it is not one.
    pub(super) fn parse(text: &str) -> Option<Self> {
        let mut words = text.split(' ');
        let ver = words.next()?.parse().ok()?;
        let members = words
            .map(|word| {
                let (peer, instance) = word.split_once('=')?;
                Some((PeerId(peer.to_owned()), Arc::from(instance)))
            })
            .collect::<Option<_>>()?;
        Some(Self { ver, members })
    }

    fn instance_of(&self, peer: &PeerId) -> Option<&Arc<str>> {
        self.members
            .iter()
            .find_map(|(p, instance)| (p == peer).then_some(instance))
    }
}

/// Where a signal goes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Route {
    /// Not a connected member of the sender's room (or the sender's place is not ours).
    NoSuchPeer,
    /// Connected to this instance.
    Local,
    /// Connected to the instance with this id.
    Remote(Arc<str>),
}

struct Cached {
    snapshot: Snapshot,
    /// No local session was in the room at the last sweep.
    unreferenced: bool,
}

/// The member lists this instance knows, by room.
#[derive(Default)]
pub(super) struct RoomCache {
    rooms: HashMap<RoomCode, Cached>,
}

impl RoomCache {
    /// Takes `snapshot` for `code` unless a newer (or the same) version is already here.
    pub(super) fn apply(&mut self, code: &RoomCode, snapshot: Snapshot) {
        match self.rooms.get_mut(code) {
            Some(cached) if cached.snapshot.ver >= snapshot.ver => {}
            Some(cached) => cached.snapshot = snapshot,
            None => {
                let cached = Cached {
                    snapshot,
                    unreferenced: false,
                };
                self.rooms.insert(code.clone(), cached);
            }
        }
    }

    /// Parses and applies a snapshot's text; an empty text means the room is gone.
    pub(super) fn apply_text(&mut self, code: &RoomCode, text: &str) {
        if text.is_empty() {
            self.rooms.remove(code);
        } else if let Some(snapshot) = Snapshot::parse(text) {
            self.apply(code, snapshot);
        }
    }

    /// Routes a signal from `from` (connected to instance `me`) to `to` in room `code`.
    pub(super) fn route(&self, code: &RoomCode, from: &PeerId, to: &PeerId, me: &str) -> Route {
        let Some(cached) = self.rooms.get(code) else {
            return Route::NoSuchPeer;
        };
        let snapshot = &cached.snapshot;
        if snapshot.instance_of(from).map(|i| &**i) != Some(me) {
            return Route::NoSuchPeer;
        }
        match snapshot.instance_of(to) {
            None => Route::NoSuchPeer,
            Some(instance) if &**instance == me => Route::Local,
            Some(instance) => Route::Remote(instance.clone()),
        }
    }

    /// Forgets rooms no local session has been in at two sweeps in a row (two, so a
    /// snapshot that arrived just before its join's reply is not dropped in between).
    pub(super) fn sweep(&mut self, in_use: &HashSet<RoomCode>) {
        self.rooms.retain(|code, cached| {
            if in_use.contains(code) {
                cached.unreferenced = false;
                return true;
            }
            let keep = !cached.unreferenced;
            cached.unreferenced = true;
            keep
        });
    }

    /// Rooms held (for metrics).
    pub(super) fn len(&self) -> usize {
        self.rooms.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RoomCode {
        RoomCode::parse(s).unwrap()
    }

    fn peer(s: &str) -> PeerId {
        PeerId(s.to_owned())
    }

    #[test]
    fn parses_the_scripts_text() {
        let snap = Snapshot::parse("42 aa=i1 bb=i2").unwrap();
        assert_eq!(snap.ver, 42);
        assert_eq!(snap.instance_of(&peer("bb")).map(|i| &**i), Some("i2"));
        assert_eq!(Snapshot::parse("7").unwrap().members, vec![]);
        assert_eq!(Snapshot::parse("x aa=i1"), None);
        assert_eq!(Snapshot::parse("1 aa"), None);
    }

    #[test]
    fn routes_by_the_newest_version_whatever_the_arrival_order() {
        let room = code("BBBB-CCCC");
        let mut cache = RoomCache::default();
        cache.apply_text(&room, "5 a=me b=other");
        // An older snapshot (a script reply that lost the race) changes nothing.
        cache.apply_text(&room, "4 a=me");
        assert_eq!(
            cache.route(&room, &peer("a"), &peer("b"), "me"),
            Route::Remote(Arc::from("other"))
        );
        cache.apply_text(&room, "6 a=me c=me");
        assert_eq!(
            cache.route(&room, &peer("a"), &peer("b"), "me"),
            Route::NoSuchPeer
        );
        assert_eq!(
            cache.route(&room, &peer("a"), &peer("c"), "me"),
            Route::Local
        );
        // A sender whose place moved to another instance may no longer send from here.
        cache.apply_text(&room, "7 a=other c=me");
        assert_eq!(
            cache.route(&room, &peer("a"), &peer("c"), "me"),
            Route::NoSuchPeer
        );
        cache.apply_text(&room, "");
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn sweep_forgets_rooms_unused_at_two_sweeps() {
        let (used, unused) = (code("BBBB-CCCC"), code("DDDD-EEEE"));
        let mut cache = RoomCache::default();
        cache.apply_text(&used, "1 a=me");
        cache.apply_text(&unused, "2 b=me");
        let in_use = HashSet::from([used.clone()]);
        cache.sweep(&in_use);
        assert_eq!(cache.len(), 2);
        cache.sweep(&in_use);
        assert_eq!(cache.len(), 1);
        assert_eq!(
            cache.route(&used, &peer("a"), &peer("a"), "me"),
            Route::Local
        );
    }
}
