//! Room storage behind a trait, so a shared store (e.g. Redis, for several server instances)
//! can replace the in-memory map without touching the state machine's callers.

use std::collections::HashMap;
use std::time::Instant;

use parley_protocol::{PeerId, RoomCode};

use super::ConnId;

/// Whether a member is connected or holding its place for a resume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Connected on this connection.
    Here(ConnId),
    /// Dropped; the place is kept until `until` for a `hello.resume` carrying `token`.
    Away {
        /// End of the grace period.
        until: Instant,
        /// The resume token the dropped connection was given.
        token: String,
    },
}

/// One member of a room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member's peer id.
    pub peer: PeerId,
    /// Connected or away.
    pub presence: Presence,
}

/// A room: a code's members, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    /// Most members, away ones included.
    pub capacity: u8,
    /// Device mode call rooms cannot be joined by code.
    pub private: bool,
    /// Members, oldest first.
    pub members: Vec<Member>,
}

impl Room {
    /// True when no further member fits.
    pub fn is_full(&self) -> bool {
        self.members.len() >= usize::from(self.capacity)
    }

    /// Connected members other than `me`, oldest first.
    pub fn others_here(&self, me: &PeerId) -> impl Iterator<Item = (&PeerId, ConnId)> {
        self.members
            .iter()
            .filter(move |m| &m.peer != me)
            .filter_map(|m| match m.presence {
                Presence::Here(conn) => Some((&m.peer, conn)),
                Presence::Away { .. } => None,
            })
    }

    /// The member entry of `peer`.
    pub fn member_mut(&mut self, peer: &PeerId) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| &m.peer == peer)
    }
}

/// Where rooms live. Operations are those of a map keyed by code; `insert` must refuse a
/// taken code so code collisions are detected wherever the store is.
pub trait RoomStore: Send {
    /// Adds a room; gives it back if the code is taken.
    fn insert(&mut self, code: RoomCode, room: Room) -> Result<(), Room>;
    /// The room with this code.
    fn get(&self, code: &RoomCode) -> Option<&Room>;
    /// The room with this code, to change it.
    fn get_mut(&mut self, code: &RoomCode) -> Option<&mut Room>;
    /// Deletes a room.
    fn remove(&mut self, code: &RoomCode) -> Option<Room>;
    /// Number of rooms.
    fn len(&self) -> usize;
    /// True if there are no rooms.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Every room (for metrics and invariant checks).
    fn for_each(&self, f: &mut dyn FnMut(&RoomCode, &Room));
}

/// Rooms in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryRooms(HashMap<RoomCode, Room>);

impl RoomStore for MemoryRooms {
    fn insert(&mut self, code: RoomCode, room: Room) -> Result<(), Room> {
        match self.0.entry(code) {
            std::collections::hash_map::Entry::Occupied(_) => Err(room),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(room);
                Ok(())
            }
        }
    }
    fn get(&self, code: &RoomCode) -> Option<&Room> {
        self.0.get(code)
    }
    fn get_mut(&mut self, code: &RoomCode) -> Option<&mut Room> {
        self.0.get_mut(code)
    }
    fn remove(&mut self, code: &RoomCode) -> Option<Room> {
        self.0.remove(code)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn for_each(&self, f: &mut dyn FnMut(&RoomCode, &Room)) {
        for (code, room) in &self.0 {
            f(code, room);
        }
    }
}
