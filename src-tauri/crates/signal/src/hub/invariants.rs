//! Consistency checks between sessions, rooms, reservations and knocks (for tests).

use super::{Hub, Presence, RoomStore};

impl<S: RoomStore> Hub<S> {
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
                && self.knocks.get(&**k) != Some(conn)
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
