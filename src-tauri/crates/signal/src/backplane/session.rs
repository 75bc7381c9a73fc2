//! Client messages in shared mode: the same protocol answers as the hub gives, with rooms in
//! Redis.

use std::net::IpAddr;

use parley_protocol::{
    ClientMessage, ErrorCode, LeaveReason, PROTOCOL_VERSION, PeerId, Resume, RoomCode,
    ServerMessage, ServerMode,
};

use super::cache::Route;
use super::publisher::Outgoing;
use super::store::{Joined, Unreachable};
use super::{Backplane, Session};
use crate::hub::ids::{self, EntropyError, OsEntropy};
use crate::hub::{CODE_TRIES, ConnId, Now, PEER_ID_LEN, RESUME_TOKEN_LEN};
use crate::shared::{Shared, lock};
use crate::turn::ice_servers;

/// A random lower-case token of `len` symbols.
pub(super) fn random_id(len: usize) -> Result<String, EntropyError> {
    ids::token(&mut OsEntropy, len)
}

fn frame(msg: &ServerMessage) -> String {
    serde_json::to_string(msg).unwrap_or_default()
}

fn unavailable(shared: &Shared, conn: ConnId) {
    shared.reject(
        conn,
        ErrorCode::Unavailable,
        "shared room store unreachable; try again shortly".into(),
    );
}

impl Backplane {
    /// Handles one decoded message from `conn` (connected from `ip`).
    pub(crate) async fn handle(
        &self,
        shared: &Shared,
        conn: ConnId,
        ip: IpAddr,
        msg: ClientMessage,
    ) {
        let error = |code, message: &str| shared.reject(conn, code, message.to_owned());
        if let ClientMessage::Hello {
            version, resume, ..
        } = msg
        {
            return self.hello(shared, conn, version, resume).await;
        }
        let Some((peer, room)) = self.session(conn) else {
            return error(ErrorCode::NeedHello, "send hello first");
        };
        let result = match msg {
            ClientMessage::Hello { .. } => Ok(()),
            ClientMessage::Ping {} => {
                shared.send(conn, ServerMessage::Pong {});
                Ok(())
            }
            ClientMessage::Pong {} => Ok(()),
            ClientMessage::Knock { .. } => {
                error(ErrorCode::Forbidden, "knock is for device servers");
                Ok(())
            }
            ClientMessage::Accept { .. }
            | ClientMessage::Decline { .. }
            | ClientMessage::Cancel {} => {
                error(ErrorCode::Forbidden, "only the device owner may answer");
                Ok(())
            }
            ClientMessage::Create {} | ClientMessage::Join { .. } if room.is_some() => {
                error(ErrorCode::AlreadyInRoom, "leave your room first");
                Ok(())
            }
            ClientMessage::Create {} => self.create(shared, conn, &peer).await,
            ClientMessage::Join { code } => self.join(shared, conn, ip, &peer, code).await,
            ClientMessage::Leave {} => match room {
                None => {
                    error(ErrorCode::NotInRoom, "you are not in a room");
                    Ok(())
                }
                Some(code) => self.leave(shared, conn, &peer, &code).await,
            },
            ClientMessage::Signal { to, data } => match room {
                None => {
                    error(ErrorCode::NotInRoom, "signal needs a room");
                    Ok(())
                }
                Some(code) => {
                    let msg = ServerMessage::Signal {
                        from: peer.clone(),
                        data,
                    };
                    self.signal(shared, conn, &code, &peer, to, frame(&msg))
                        .await
                }
            },
        };
        if result.is_err() {
            unavailable(shared, conn);
        }
    }

    fn session(&self, conn: ConnId) -> Option<(PeerId, Option<RoomCode>)> {
        let local = lock(&self.local);
        let s = local.sessions.get(&conn)?;
        Some((s.peer.clone(), s.room.clone()))
    }

    fn set_room(&self, conn: ConnId, room: Option<RoomCode>) -> Option<String> {
        let mut local = lock(&self.local);
        let session = local.sessions.get_mut(&conn)?;
        session.room = room;
        Some(session.resume_token.clone())
    }

    /// Takes a room snapshot a script returned.
    fn apply(&self, code: &RoomCode, snapshot: &str) {
        lock(&self.local).rooms.apply_text(code, snapshot);
    }

    fn token(&self, conn: ConnId) -> String {
        lock(&self.local)
            .sessions
            .get(&conn)
            .map(|s| s.resume_token.clone())
            .unwrap_or_default()
    }

    async fn hello(&self, shared: &Shared, conn: ConnId, version: u32, resume: Option<Resume>) {
        let error = |code, message: String| shared.reject(conn, code, message);
        if lock(&self.local).sessions.contains_key(&conn) {
            return error(ErrorCode::NeedHello, "hello was already sent".into());
        }
        if version != PROTOCOL_VERSION {
            let msg = format!("this server speaks protocol version {PROTOCOL_VERSION}");
            return error(ErrorCode::BadVersion, msg);
        }
        let (Ok(resume_token), Ok(fresh)) = (random_id(RESUME_TOKEN_LEN), random_id(PEER_ID_LEN))
        else {
            return error(ErrorCode::Unavailable, "try again".into());
        };
        let mut resumed = None;
        if let Some(resume) = resume {
            if !self.store.health.ready() {
                return unavailable(shared, conn);
            }
            let joined = frame(&ServerMessage::PeerJoined {
                peer: resume.peer_id.clone(),
            });
            let reclaimed = self
                .store
                .resume(
                    &resume.peer_id,
                    &resume.token,
                    &resume_token,
                    self.member_ttl,
                    &joined,
                )
                .await;
            match reclaimed {
                Err(Unreachable) => return unavailable(shared, conn),
                Ok(Some(place)) => {
                    if place.previous == self.store.instance {
                        self.kick(shared, &resume.peer_id);
                    }
                    self.apply(&place.code, &place.snapshot);
                    resumed = Some((resume.peer_id, place));
                }
                Ok(None) => {}
            }
        }
        let peer = resumed
            .as_ref()
            .map_or_else(|| PeerId(fresh), |(p, _)| p.clone());
        {
            let mut local = lock(&self.local);
            local.peers.insert(peer.clone(), conn);
            let room = resumed.as_ref().map(|(_, place)| place.code.clone());
            let session = Session {
                peer: peer.clone(),
                resume_token: resume_token.clone(),
                room,
            };
            local.sessions.insert(conn, session);
        }
        let now = Now::current();
        shared.send(
            conn,
            ServerMessage::Welcome {
                version: PROTOCOL_VERSION,
                server: shared.server_name(),
                mode: ServerMode::Public,
                ice_servers: ice_servers(&shared.config.ice, &peer, now.unix_secs),
                peer_id: peer,
                resume_token,
                owner: false,
                resumed: resumed.is_some(),
            },
        );
        if let Some((_, place)) = resumed {
            let msg = ServerMessage::Joined {
                code: place.code,
                peers: place.peers,
                capacity: place.capacity,
            };
            shared.send(conn, msg);
        }
    }

    async fn create(
        &self,
        shared: &Shared,
        conn: ConnId,
        peer: &PeerId,
    ) -> Result<(), Unreachable> {
        if !self.store.health.ready() {
            return Err(Unreachable);
        }
        let token = self.token(conn);
        for _ in 0..CODE_TRIES {
            let Ok(code) = ids::room_code(&mut OsEntropy) else {
                break;
            };
            let made = self
                .store
                .create(&code, self.capacity, peer, &token, self.member_ttl)
                .await?;
            if let Some(snapshot) = made {
                self.apply(&code, &snapshot);
                self.set_room(conn, Some(code.clone()));
                shared.send(
                    conn,
                    ServerMessage::Created {
                        code,
                        capacity: self.capacity,
                    },
                );
                return Ok(());
            }
        }
        shared.reject(
            conn,
            ErrorCode::Unavailable,
            "no room code free; try again".into(),
        );
        Ok(())
    }

    async fn join(
        &self,
        shared: &Shared,
        conn: ConnId,
        ip: IpAddr,
        peer: &PeerId,
        typed: String,
    ) -> Result<(), Unreachable> {
        if !self.store.health.ready() {
            return Err(Unreachable);
        }
        let limits = &shared.config.limits;
        if self.store.count_join(ip, limits.join_window).await? > u64::from(limits.join_attempts) {
            shared.reject(
                conn,
                ErrorCode::RateLimited,
                "too many join attempts; wait a few seconds".into(),
            );
            return Ok(());
        }
        let Some(code) = RoomCode::parse(&typed) else {
            shared.send(conn, ServerMessage::NoSuchRoom { code: typed });
            return Ok(());
        };
        let token = self.token(conn);
        let joined = frame(&ServerMessage::PeerJoined { peer: peer.clone() });
        match self
            .store
            .join(&code, peer, &token, self.member_ttl, &joined)
            .await?
        {
            Joined::NoSuchRoom => shared.send(conn, ServerMessage::NoSuchRoom { code: typed }),
            Joined::Full => shared.send(conn, ServerMessage::Full { code: typed }),
            Joined::Ok(capacity, snapshot, peers) => {
                self.apply(&code, &snapshot);
                self.set_room(conn, Some(code.clone()));
                shared.send(
                    conn,
                    ServerMessage::Joined {
                        code,
                        peers,
                        capacity,
                    },
                );
            }
        }
        Ok(())
    }

    async fn leave(
        &self,
        shared: &Shared,
        conn: ConnId,
        peer: &PeerId,
        code: &RoomCode,
    ) -> Result<(), Unreachable> {
        let left = frame(&ServerMessage::PeerLeft {
            peer: peer.clone(),
            reason: LeaveReason::Left,
        });
        // Frames this member sent before leaving reach the room before its `peer-left`.
        self.publisher.flush().await;
        if let Some(snapshot) = self.store.leave(code, peer, &left).await? {
            self.apply(code, &snapshot);
        }
        self.set_room(conn, None);
        shared.send(conn, ServerMessage::Left {});
        Ok(())
    }

    /// Routes a signal by this instance's copy of the room (no Redis round trip): to a
    /// local connection, or queued for the target's instance.
    async fn signal(
        &self,
        shared: &Shared,
        conn: ConnId,
        code: &RoomCode,
        from: &PeerId,
        to: PeerId,
        text: String,
    ) -> Result<(), Unreachable> {
        let (route, local_target) = {
            let local = lock(&self.local);
            let route = local.rooms.route(code, from, &to, &self.store.instance);
            let target = (route == Route::Local)
                .then(|| local.peers.get(&to).copied())
                .flatten();
            (route, target)
        };
        match route {
            Route::Local => {
                if let Some(target) = local_target {
                    shared.push_text(target, text);
                }
            }
            Route::Remote(instance) => {
                if !self.store.health.ready() {
                    return Err(Unreachable);
                }
                let out = Outgoing {
                    instance,
                    peer: to,
                    frame: text,
                    sender: conn,
                };
                if let Err(refused) = self.publisher.send(out).await {
                    shared.reject(conn, ErrorCode::Unavailable, refused.to_string());
                }
            }
            Route::NoSuchPeer => {
                shared.reject(
                    conn,
                    ErrorCode::NoSuchPeer,
                    "that peer is not in your room".into(),
                );
            }
        }
        Ok(())
    }

    /// `conn` is gone: its place is kept for a resume (or released if there is no grace).
    pub(crate) async fn disconnect(&self, conn: ConnId) {
        let session = {
            let mut local = lock(&self.local);
            let Some(session) = local.sessions.remove(&conn) else {
                return;
            };
            if local.peers.get(&session.peer) == Some(&conn) {
                local.peers.remove(&session.peer);
            }
            session
        };
        let Some(code) = session.room else { return };
        let peer = session.peer;
        let left = frame(&ServerMessage::PeerLeft {
            peer: peer.clone(),
            reason: LeaveReason::Dropped,
        });
        self.publisher.flush().await;
        // On failure the place simply expires: this instance stops refreshing it.
        let after = if self.grace.is_zero() {
            self.store.leave(&code, &peer, &left).await
        } else {
            self.store
                .drop_member(&code, &peer, self.grace, &left)
                .await
        };
        if let Ok(Some(snapshot)) = after {
            self.apply(&code, &snapshot);
        }
    }

    /// `peer` resumed elsewhere: its connection here says goodbye without touching the room.
    pub(super) fn kick(&self, shared: &Shared, peer: &PeerId) {
        let conn = {
            let mut local = lock(&self.local);
            let Some(conn) = local.peers.remove(peer) else {
                return;
            };
            local.sessions.remove(&conn);
            conn
        };
        shared.send(
            conn,
            ServerMessage::Bye {
                reason: "resumed on another connection".into(),
            },
        );
        shared.close(conn);
    }

    /// Frames from another instance, `(peer, frame)`, for the peers connected here.
    pub(super) fn deliver<'a>(
        &self,
        shared: &Shared,
        frames: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) {
        let targets: Vec<(ConnId, &str)> = {
            let local = lock(&self.local);
            frames
                .into_iter()
                .filter_map(|(peer, frame)| {
                    let conn = local.peers.get(&PeerId(peer.to_owned())).copied()?;
                    Some((conn, frame))
                })
                .collect()
        };
        let delivered = u64::try_from(targets.len()).unwrap_or(u64::MAX);
        self.store
            .health
            .delivered
            .fetch_add(delivered, std::sync::atomic::Ordering::Relaxed);
        for (conn, frame) in targets {
            shared.push_text(conn, frame.to_owned());
        }
    }
}
