//! The signaling state machine, free of I/O: each input (a decoded client message, a
//! disconnect, the passing of time) yields the list of [`Effect`]s the socket layer carries
//! out. Socket tasks drive one shared [`Hub`]; tests and the property test drive it directly.

mod device;
mod ids;
mod public;
mod rooms;

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parley_protocol::{
    ClientMessage, ErrorCode, KnockId, LeaveReason, PROTOCOL_VERSION, PeerId, Resume, RoomCode,
    ServerMessage, ServerMode,
};

pub use ids::{Entropy, EntropyError, OsEntropy};
pub use rooms::{Member, MemoryRooms, Presence, Room, RoomStore};

use crate::config::IceConfig;
use crate::turn::ice_servers;

/// A connection's number within one server (assigned by the socket layer).
pub type ConnId = u64;

/// Symbols in a peer id (60 bits).
const PEER_ID_LEN: usize = 12;
/// Symbols in a resume token (130 bits).
const RESUME_TOKEN_LEN: usize = 26;
/// Symbols in a knock id.
const KNOCK_ID_LEN: usize = 10;
/// Tries to find a free code before giving up with `unavailable`.
const CODE_TRIES: usize = 8;

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
    resume_token: String,
    owner: bool,
    room: Option<RoomCode>,
    knock: Option<KnockId>,
}

/// All rooms, sessions and knocks of one server.
pub struct Hub<S: RoomStore = MemoryRooms> {
    config: HubConfig,
    rooms: S,
    rng: Box<dyn Entropy>,
    sessions: HashMap<ConnId, Session>,
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

    fn hello(
        &mut self,
        conn: ConnId,
        version: u32,
        token: Option<String>,
        resume: Option<Resume>,
        now: Now,
    ) {
        if self.sessions.contains_key(&conn) {
            return self.error(conn, ErrorCode::NeedHello, "hello was already sent");
        }
        if version != PROTOCOL_VERSION {
            let msg = format!("this server speaks protocol version {PROTOCOL_VERSION}");
            return self.error(conn, ErrorCode::BadVersion, &msg);
        }
        let owner = match (&self.config.policy, token) {
            (Policy::Device { owner_token }, Some(token)) => {
                if !ids::secrets_match(&token, owner_token) {
                    self.error(conn, ErrorCode::BadToken, "wrong owner token");
                    return self.out.push(Effect::Close(conn));
                }
                true
            }
            // A token means nothing to a public server; it is ignored.
            _ => false,
        };
        let reclaimed = resume.and_then(|r| self.reclaim(conn, r, now));
        let peer = match &reclaimed {
            Some((peer, _)) => peer.clone(),
            None => match self.fresh_peer_id() {
                Ok(peer) => peer,
                Err(_) => return self.error(conn, ErrorCode::Unavailable, "try again"),
            },
        };
        let Ok(resume_token) = ids::token(self.rng.as_mut(), RESUME_TOKEN_LEN) else {
            return self.error(conn, ErrorCode::Unavailable, "try again");
        };
        if owner && let Some(old) = self.owner.filter(|old| *old != conn) {
            let reason = "another owner connection took over".to_owned();
            self.send(old, ServerMessage::Bye { reason });
            self.out.push(Effect::Close(old));
            self.drop_session(old, now);
        }
        if owner {
            self.owner = Some(conn);
        }
        let room = reclaimed.as_ref().map(|(_, code)| code.clone());
        self.peers.insert(peer.clone(), conn);
        self.sessions.insert(
            conn,
            Session {
                peer: peer.clone(),
                resume_token: resume_token.clone(),
                owner,
                room: room.clone(),
                knock: None,
            },
        );
        let mode = match self.config.policy {
            Policy::Public { .. } => ServerMode::Public,
            Policy::Device { .. } => ServerMode::Device,
        };
        let welcome = ServerMessage::Welcome {
            version: PROTOCOL_VERSION,
            server: self.config.server_name.clone(),
            mode,
            ice_servers: ice_servers(&self.config.ice, &peer, now.unix_secs),
            peer_id: peer.clone(),
            resume_token,
            owner,
            resumed: room.is_some(),
        };
        self.send(conn, welcome);
        if let Some(code) = room {
            self.announce_arrival(conn, &code, &peer);
        }
    }

    /// Takes over `resume.peer_id`'s room place if the token matches, closing a connection
    /// that still holds it. Returns the peer id and room on success.
    fn reclaim(&mut self, conn: ConnId, resume: Resume, now: Now) -> Option<(PeerId, RoomCode)> {
        if let Some(&old) = self.peers.get(&resume.peer_id) {
            let holds = self.sessions.get(&old).is_some_and(|s| {
                s.room.is_some() && ids::secrets_match(&resume.token, &s.resume_token)
            });
            if !holds {
                return None;
            }
            let reason = "resumed on another connection".to_owned();
            self.send(old, ServerMessage::Bye { reason });
            self.out.push(Effect::Close(old));
            self.drop_session(old, now);
        }
        let code = self.away.get(&resume.peer_id)?.clone();
        let member = self.rooms.get_mut(&code)?.member_mut(&resume.peer_id)?;
        match &member.presence {
            Presence::Away { until, token }
                if *until > now.mono && ids::secrets_match(&resume.token, token) => {}
            _ => return None,
        }
        member.presence = Presence::Here(conn);
        self.away.remove(&resume.peer_id);
        Some((resume.peer_id, code))
    }

    fn fresh_peer_id(&mut self) -> Result<PeerId, EntropyError> {
        for _ in 0..CODE_TRIES {
            let peer = PeerId(ids::token(self.rng.as_mut(), PEER_ID_LEN)?);
            if !self.peers.contains_key(&peer) && !self.away.contains_key(&peer) {
                return Ok(peer);
            }
        }
        Err(EntropyError("no free peer id".into()))
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
            self.knocks.remove(&knock);
            if let Some(owner) = self.owner {
                self.send(owner, ServerMessage::Cancelled { knock });
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
                    token: session.resume_token,
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

    /// Checks that sessions, rooms, reservations and knocks agree; describes the first
    /// inconsistency. For tests.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        self.rooms.for_each(&mut |code, room| {
            if room.members.is_empty() {
                problems.push(format!("room {code} is empty but exists"));
            }
            if room.members.len() > usize::from(room.capacity) {
                problems.push(format!("room {code} is over capacity"));
            }
            for m in &room.members {
                match &m.presence {
                    Presence::Here(conn) => {
                        let s = self.sessions.get(conn);
                        if s.is_none_or(|s| s.peer != m.peer || s.room.as_ref() != Some(code)) {
                            problems.push(format!("member {:?} of {code} has no session", m.peer));
                        }
                    }
                    Presence::Away { .. } => {
                        if self.away.get(&m.peer) != Some(code) {
                            problems.push(format!("away member {:?} not reserved", m.peer));
                        }
                    }
                }
            }
        });
        for (conn, s) in &self.sessions {
            if self.peers.get(&s.peer) != Some(conn) {
                problems.push(format!("peer map disagrees for {:?}", s.peer));
            }
            if let Some(code) = &s.room {
                let here = self.rooms.get(code).is_some_and(|r| {
                    r.members
                        .iter()
                        .any(|m| m.peer == s.peer && m.presence == Presence::Here(*conn))
                });
                if !here {
                    problems.push(format!("{:?} thinks it is in {code}", s.peer));
                }
            }
            if let Some(k) = &s.knock
                && self.knocks.get(k) != Some(conn)
            {
                problems.push(format!("knock {k:?} lost"));
            }
        }
        for (code_peer, code) in &self.away {
            if self.rooms.get(code).is_none() {
                problems.push(format!("{code_peer:?} reserved in missing room {code}"));
            }
        }
        if !self.knocks.is_empty() && self.owner.is_none() {
            problems.push("knocks pending with no owner".into());
        }
        if self.peers.len() != self.sessions.len() {
            problems.push("peer map size differs from sessions".into());
        }
        problems.into_iter().next().map_or(Ok(()), Err)
    }
}
