//! Device mode: the doorbell. Strangers `knock`; the owner `accept`s (a private two-party
//! room) or `decline`s; callers may `cancel`.

use parley_protocol::{ErrorCode, KnockId, Media, ServerMessage};

use super::{ConnId, Hub, KNOCK_ID_LEN, Member, Policy, Presence, Room, RoomStore, ids};

impl<S: RoomStore> Hub<S> {
    /// True (after telling `conn` otherwise) if `conn` is the device owner.
    fn is_owner(&mut self, conn: ConnId) -> bool {
        let owner = self.sessions.get(&conn).is_some_and(|s| s.owner);
        if !owner {
            self.error(
                conn,
                ErrorCode::Forbidden,
                "only the device owner may answer",
            );
        }
        owner
    }

    pub(super) fn knock(&mut self, conn: ConnId, name: String, device: String, media: Media) {
        if matches!(self.config.policy, Policy::Public { .. }) {
            return self.error(conn, ErrorCode::Forbidden, "knock is for device servers");
        }
        let Some(session) = self.sessions.get(&conn) else {
            return;
        };
        if session.owner {
            return self.error(conn, ErrorCode::Forbidden, "the owner cannot knock");
        }
        if session.room.is_some() {
            return self.error(conn, ErrorCode::AlreadyInRoom, "leave your call first");
        }
        if session.knock.is_some() {
            return self.error(conn, ErrorCode::Forbidden, "already knocking; cancel first");
        }
        let owner = self
            .owner
            .filter(|o| self.sessions.get(o).is_some_and(|s| s.room.is_none()));
        let Some(owner) = owner else {
            return self.send(conn, ServerMessage::Unavailable {});
        };
        let Ok(id) = ids::token(self.rng.as_mut(), KNOCK_ID_LEN) else {
            return self.error(conn, ErrorCode::Unavailable, "try again");
        };
        let knock = KnockId(id);
        if self.knocks.contains_key(&knock) {
            return self.error(conn, ErrorCode::Unavailable, "try again");
        }
        self.knocks.insert(knock.clone(), conn);
        if let Some(session) = self.sessions.get_mut(&conn) {
            session.knock = Some(Box::new(knock.clone()));
        }
        let incoming = ServerMessage::Incoming {
            knock: knock.clone(),
            name,
            device,
            media,
        };
        self.send(owner, incoming);
        self.send(conn, ServerMessage::Ringing { knock });
    }

    /// Removes a pending knock, returning its caller.
    fn take_knock(&mut self, conn: ConnId, knock: &KnockId) -> Option<ConnId> {
        let Some(caller) = self.knocks.remove(knock) else {
            self.error(conn, ErrorCode::NoSuchKnock, "no such knock");
            return None;
        };
        if let Some(session) = self.sessions.get_mut(&caller) {
            session.knock = None;
        }
        Some(caller)
    }

    pub(super) fn accept(&mut self, conn: ConnId, knock: KnockId) {
        if !self.is_owner(conn) {
            return;
        }
        let Some(caller) = self.take_knock(conn, &knock) else {
            return;
        };
        let (Some(owner_peer), Some(caller_peer)) = (
            self.sessions.get(&conn).map(|s| s.peer.clone()),
            self.sessions.get(&caller).map(|s| s.peer.clone()),
        ) else {
            return;
        };
        let members = vec![
            Member {
                peer: owner_peer.clone(),
                presence: Presence::Here(conn),
            },
            Member {
                peer: caller_peer.clone(),
                presence: Presence::Here(caller),
            },
        ];
        let Some(code) = self.new_room(Room {
            capacity: 2,
            private: true,
            members,
        }) else {
            self.send(caller, ServerMessage::Unavailable {});
            return self.error(conn, ErrorCode::Unavailable, "no room code free; try again");
        };
        for c in [conn, caller] {
            if let Some(session) = self.sessions.get_mut(&c) {
                session.room = Some(code.clone());
            }
        }
        self.send(
            conn,
            ServerMessage::Joined {
                code: code.clone(),
                peers: vec![caller_peer],
                capacity: 2,
            },
        );
        self.send(
            caller,
            ServerMessage::Joined {
                code,
                peers: vec![owner_peer],
                capacity: 2,
            },
        );
        // The owner is busy now: everyone else still ringing is told so.
        self.ring_off_all();
    }

    pub(super) fn decline(&mut self, conn: ConnId, knock: KnockId) {
        if !self.is_owner(conn) {
            return;
        }
        if let Some(caller) = self.take_knock(conn, &knock) {
            self.send(caller, ServerMessage::Declined {});
        }
    }

    pub(super) fn cancel(&mut self, conn: ConnId) {
        let knock = self.sessions.get_mut(&conn).and_then(|s| s.knock.take());
        let Some(knock) = knock else {
            return self.error(conn, ErrorCode::NoSuchKnock, "you are not knocking");
        };
        self.knocks.remove(&*knock);
        if let Some(owner) = self.owner {
            self.send(owner, ServerMessage::Cancelled { knock: *knock });
        }
    }

    /// Ends every pending knock: callers hear `unavailable`, a connected owner `cancelled`.
    pub(super) fn ring_off_all(&mut self) {
        let pending: Vec<(KnockId, ConnId)> = self.knocks.drain().collect();
        for (knock, caller) in pending {
            if let Some(session) = self.sessions.get_mut(&caller) {
                session.knock = None;
            }
            self.send(caller, ServerMessage::Unavailable {});
            if let Some(owner) = self.owner {
                self.send(owner, ServerMessage::Cancelled { knock });
            }
        }
    }
}
