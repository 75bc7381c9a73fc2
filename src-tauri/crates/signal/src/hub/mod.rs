//! The signaling state machine, free of I/O: each input (a decoded client message, a
//! disconnect, the passing of time) yields the list of [`Effect`]s the socket layer carries
//! out. Socket tasks drive one shared [`Hub`]; tests and the property test drive it directly.

mod device;
pub(crate) mod ids;
mod invariants;
mod public;
mod rooms;
mod session;

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parley_protocol::{
    ClientMessage, ErrorCode, KnockId, LeaveReason, PeerId, RoomCode, ServerMessage,
};

pub use ids::{Entropy, EntropyError, OsEntropy};
pub use rooms::{Member, MemoryRooms, Presence, Room, RoomStore};

use crate::config::IceConfig;

/// A connection's number within one server (assigned by the socket layer).
pub type ConnId = u64;

/// Symbols in a peer id (60 bits).
pub(crate) const PEER_ID_LEN: usize = 12;
/// Symbols in a resume token (130 bits).
pub(crate) const RESUME_TOKEN_LEN: usize = 26;
/// Symbols in a knock id.
const KNOCK_ID_LEN: usize = 10;
/// Tries to find a free code before giving up with `unavailable`.
pub(crate) const CODE_TRIES: usize = 8;

/// The time an input happens at: monotonic for grace periods, wall clock for TURN expiry.
#[derive(Clone, Copy, Debug)]
pub struct Now {
    /// Monotonic time.
    pub mono: Instant,
    /// Seconds since the Unix epoch.
    pub unix_secs: u64,
}

impl Now {
    /// The current time.
    pub fn current() -> Self {
        let unix_secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            mono: Instant::now(),
            unix_secs,
        }
    }
}

/// Something the socket layer must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Send this message to this connection.
    Send(ConnId, ServerMessage),
    /// Close this connection after what is already queued for it.
    Close(ConnId),
}

/// What the hub allows: public rooms or a device doorbell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Anyone may create and join rooms of this capacity.
    Public {
        /// Most members per room.
        capacity: u8,
    },
    /// Strangers knock; the connection presenting this token is the owner.
    Device {
        /// The owner's secret.
        owner_token: String,
    },
}

/// Settings of a [`Hub`].
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// Public or device.
    pub policy: Policy,
    /// ICE servers for `welcome`.
    pub ice: IceConfig,
    /// How long a dropped member's place is kept for a resume (zero: not at all).
    pub resume_grace: Duration,
    /// Software name and version sent in `welcome`.
    pub server_name: String,
}

/// A connection that has said `hello`.
#[derive(Debug)]
struct Session {
    peer: PeerId,
    /// Boxed `str` and boxed knock: every connection that said hello has a session, so
    /// its size is memory per idle connection (64 bytes, not 88).
    resume_token: Box<str>,
    owner: bool,
    room: Option<RoomCode>,
    knock: Option<Box<KnockId>>,
}

/// All rooms, sessions and knocks of one server.
pub struct Hub<S: RoomStore = MemoryRooms> {
    config: HubConfig,
    rooms: S,
    rng: Box<dyn Entropy>,
    /// Boxed: the map's table is sized in powers of two, so a small entry there wastes
    /// less for every connection than a whole session would.
    sessions: HashMap<ConnId, Box<Session>>,
    peers: HashMap<PeerId, ConnId>,
    away: HashMap<PeerId, RoomCode>,
    owner: Option<ConnId>,
    knocks: HashMap<KnockId, ConnId>,
    out: Vec<Effect>,
}

impl Hub<MemoryRooms> {
    /// A hub with in-memory rooms and the OS random source.
    pub fn new(config: HubConfig) -> Self {
        Self::with_parts(config, MemoryRooms::default(), Box::new(OsEntropy))
    }
}

impl<S: RoomStore> Hub<S> {
    /// A hub over any room store and random source.
    pub fn with_parts(config: HubConfig, rooms: S, rng: Box<dyn Entropy>) -> Self {
        Self {
            config,
            rooms,
            rng,
            sessions: HashMap::new(),
            peers: HashMap::new(),
            away: HashMap::new(),
            owner: None,
            knocks: HashMap::new(),
            out: Vec::new(),
        }
    }

    /// Number of rooms.
    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    /// Number of connections that said `hello`.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Applies a message from `conn`.
    pub fn handle(&mut self, conn: ConnId, msg: ClientMessage, now: Now) -> Vec<Effect> {
        match msg {
            ClientMessage::Hello {
                version,
                token,
                resume,
            } => {
                self.hello(conn, version, token, resume, now);
            }
            _ if !self.sessions.contains_key(&conn) => {
                self.error(conn, ErrorCode::NeedHello, "send hello first");
            }
            ClientMessage::Create {} => self.create(conn),
            ClientMessage::Join { code } => self.join(conn, code),
            ClientMessage::Leave {} => self.leave(conn),
            ClientMessage::Signal { to, data } => self.signal(conn, to, data),
            ClientMessage::Ping {} => self.send(conn, ServerMessage::Pong {}),
            ClientMessage::Pong {} => {}
            ClientMessage::Knock {
                name,
                device,
                media,
            } => self.knock(conn, name, device, media),
            ClientMessage::Accept { knock } => self.accept(conn, knock),
            ClientMessage::Decline { knock } => self.decline(conn, knock),
            ClientMessage::Cancel {} => self.cancel(conn),
        }
        std::mem::take(&mut self.out)
    }

    /// `conn` is gone (closed, timed out or dropped as a slow consumer).
    pub fn disconnect(&mut self, conn: ConnId, now: Now) -> Vec<Effect> {
        self.drop_session(conn, now);
        std::mem::take(&mut self.out)
    }

    /// Releases room places whose resume grace period has passed.
    pub fn expire(&mut self, now: Now) -> Vec<Effect> {
        let due: Vec<PeerId> = self
            .away
            .iter()
            .filter(|(peer, code)| {
                let until = self
                    .rooms
                    .get(code)
                    .and_then(|room| room.members.iter().find(|m| &m.peer == *peer))
                    .and_then(|m| match &m.presence {
                        Presence::Away { until, .. } => Some(*until),
                        Presence::Here(_) => None,
                    });
                until.is_none_or(|until| until <= now.mono)
            })
            .map(|(peer, _)| peer.clone())
            .collect();
        for peer in due {
            if let Some(code) = self.away.remove(&peer) {
                self.remove_member(&code, &peer);
            }
        }
        std::mem::take(&mut self.out)
    }

    /// Every connection that said `hello` (for shutdown).
    pub fn connections(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.sessions.keys().copied()
    }

    fn send(&mut self, conn: ConnId, msg: ServerMessage) {
        self.out.push(Effect::Send(conn, msg));
    }

    fn error(&mut self, conn: ConnId, code: ErrorCode, message: &str) {
        self.send(
            conn,
            ServerMessage::Error {
                code,
                message: message.to_owned(),
            },
        );
    }

    /// Sends `joined` to the newcomer `conn` and `peer-joined` to the others.
    fn announce_arrival(&mut self, conn: ConnId, code: &RoomCode, peer: &PeerId) {
        let Some(room) = self.rooms.get(code) else {
            return;
        };
        let capacity = room.capacity;
        let others: Vec<(PeerId, ConnId)> = room
            .others_here(peer)
            .map(|(p, c)| (p.clone(), c))
            .collect();
        let peers = others.iter().map(|(p, _)| p.clone()).collect();
        self.send(
            conn,
            ServerMessage::Joined {
                code: code.clone(),
                peers,
                capacity,
            },
        );
        for (_, other) in others {
            self.send(other, ServerMessage::PeerJoined { peer: peer.clone() });
        }
    }

    /// Removes `peer` from room `code` (deleting the room if it empties); returns the
    /// connections of those still there.
    fn remove_member(&mut self, code: &RoomCode, peer: &PeerId) -> Vec<ConnId> {
        let Some(room) = self.rooms.get_mut(code) else {
            return Vec::new();
        };
        room.members.retain(|m| &m.peer != peer);
        let others = room.others_here(peer).map(|(_, c)| c).collect();
        if room.members.is_empty() {
            self.rooms.remove(code);
        }
        others
    }

    fn tell_left(&mut self, others: Vec<ConnId>, peer: &PeerId, reason: LeaveReason) {
        for other in others {
            self.send(
                other,
                ServerMessage::PeerLeft {
                    peer: peer.clone(),
                    reason,
                },
            );
        }
    }

    fn drop_session(&mut self, conn: ConnId, now: Now) {
        let Some(session) = self.sessions.remove(&conn) else {
            return;
        };
        self.peers.remove(&session.peer);
        if self.owner == Some(conn) {
            self.owner = None;
            self.ring_off_all();
        }
        if let Some(knock) = session.knock {
            self.knocks.remove(&*knock);
            if let Some(owner) = self.owner {
                self.send(owner, ServerMessage::Cancelled { knock: *knock });
            }
        }
        let Some(code) = session.room else { return };
        let grace = self.config.resume_grace;
        let others = if grace.is_zero() {
            self.remove_member(&code, &session.peer)
        } else {
            let Some(room) = self.rooms.get_mut(&code) else {
                return;
            };
            if let Some(member) = room.member_mut(&session.peer) {
                let until = now.mono + grace;
                member.presence = Presence::Away {
                    until,
                    token: session.resume_token.into(),
                };
            }
            self.away.insert(session.peer.clone(), code.clone());
            room.others_here(&session.peer).map(|(_, c)| c).collect()
        };
        self.tell_left(others, &session.peer, LeaveReason::Dropped);
    }

    fn leave(&mut self, conn: ConnId) {
        let Some(session) = self.sessions.get_mut(&conn) else {
            return;
        };
        let Some(code) = session.room.take() else {
            return self.error(conn, ErrorCode::NotInRoom, "you are not in a room");
        };
        let peer = session.peer.clone();
        let others = self.remove_member(&code, &peer);
        self.send(conn, ServerMessage::Left {});
        self.tell_left(others, &peer, LeaveReason::Left);
    }

    fn signal(&mut self, conn: ConnId, to: PeerId, data: serde_json::Value) {
        let Some(session) = self.sessions.get(&conn) else {
            return;
        };
        let Some(code) = &session.room else {
            return self.error(conn, ErrorCode::NotInRoom, "signal needs a room");
        };
        let target = self
            .rooms
            .get(code)
            .and_then(|room| room.others_here(&session.peer).find(|(p, _)| **p == to))
            .map(|(_, c)| c);
        match target {
            Some(target) => {
                let from = session.peer.clone();
                self.send(target, ServerMessage::Signal { from, data });
            }
            None => self.error(conn, ErrorCode::NoSuchPeer, "that peer is not in your room"),
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every connection that said hello has a session (boxed, in a table sized in powers of
    /// two): it is memory per idle connection, so it must stay small.
    #[test]
    fn session_is_small() {
        let size = size_of::<super::Session>();
        assert!(size <= 64, "hub session grew to {size} bytes");
    }
}
