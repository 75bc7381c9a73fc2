//! Public mode: rooms made by `create` and entered by code with `join`.

use parley_protocol::{ErrorCode, PeerId, RoomCode, ServerMessage};

use super::{CODE_TRIES, ConnId, Hub, Member, Policy, Presence, Room, RoomStore, ids};

impl<S: RoomStore> Hub<S> {
    /// The public room capacity, or `None` (after telling `conn`) in device mode.
    fn public_capacity(&mut self, conn: ConnId) -> Option<u8> {
        match self.config.policy {
            Policy::Public { capacity } => Some(capacity),
            Policy::Device { .. } => {
                self.error(
                    conn,
                    ErrorCode::Forbidden,
                    "a device server has no public rooms",
                );
                None
            }
        }
    }

    /// The caller's peer id if it is in no room (else tells it `already-in-room`).
    fn roomless_peer(&mut self, conn: ConnId) -> Option<PeerId> {
        let session = self.sessions.get(&conn)?;
        if session.room.is_some() {
            self.error(conn, ErrorCode::AlreadyInRoom, "leave your room first");
            return None;
        }
        Some(session.peer.clone())
    }

    /// Stores a new room holding `members` under a fresh random code.
    pub(super) fn new_room(&mut self, mut room: Room) -> Option<RoomCode> {
        for _ in 0..CODE_TRIES {
            let code = ids::room_code(self.rng.as_mut()).ok()?;
            match self.rooms.insert(code.clone(), room) {
                Ok(()) => return Some(code),
                Err(taken) => room = taken,
            }
        }
        None
    }

    pub(super) fn create(&mut self, conn: ConnId) {
        let Some(capacity) = self.public_capacity(conn) else {
            return;
        };
        let Some(peer) = self.roomless_peer(conn) else {
            return;
        };
        let member = Member {
            peer,
            presence: Presence::Here(conn),
        };
        let room = Room {
            capacity,
            private: false,
            members: vec![member],
        };
        let Some(code) = self.new_room(room) else {
            return self.error(conn, ErrorCode::Unavailable, "no room code free; try again");
        };
        if let Some(session) = self.sessions.get_mut(&conn) {
            session.room = Some(code.clone());
        }
        self.send(conn, ServerMessage::Created { code, capacity });
    }

    pub(super) fn join(&mut self, conn: ConnId, typed: String) {
        if self.public_capacity(conn).is_none() {
            return;
        }
        let Some(peer) = self.roomless_peer(conn) else {
            return;
        };
        let room = RoomCode::parse(&typed).and_then(|code| {
            let room = self.rooms.get_mut(&code)?;
            (!room.private).then_some((code, room))
        });
        let Some((code, room)) = room else {
            return self.send(conn, ServerMessage::NoSuchRoom { code: typed });
        };
        if room.is_full() {
            return self.send(conn, ServerMessage::Full { code: typed });
        }
        room.members.push(Member {
            peer: peer.clone(),
            presence: Presence::Here(conn),
        });
        if let Some(session) = self.sessions.get_mut(&conn) {
            session.room = Some(code.clone());
        }
        self.announce_arrival(conn, &code, &peer);
    }
}
