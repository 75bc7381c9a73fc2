//! `hello`: new sessions, owner authentication and resuming an earlier identity.

use parley_protocol::{
    ErrorCode, PROTOCOL_VERSION, PeerId, Resume, RoomCode, ServerMessage, ServerMode,
};

use super::{
    CODE_TRIES, ConnId, Effect, EntropyError, Hub, Now, PEER_ID_LEN, Policy, Presence,
    RESUME_TOKEN_LEN, RoomStore, Session, ids,
};
use crate::turn::ice_servers;

impl<S: RoomStore> Hub<S> {
    pub(super) fn hello(
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
        // Drawn before any state changes, so a failure leaves nothing half done.
        let Ok(resume_token) = ids::token(self.rng.as_mut(), RESUME_TOKEN_LEN) else {
            return self.error(conn, ErrorCode::Unavailable, "try again");
        };
        let reclaimed = resume.and_then(|r| self.reclaim(conn, r, now));
        let peer = match &reclaimed {
            Some((peer, _)) => peer.clone(),
            None => match self.fresh_peer_id() {
                Ok(peer) => peer,
                Err(_) => return self.error(conn, ErrorCode::Unavailable, "try again"),
            },
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
            Box::new(Session {
                peer: peer.clone(),
                resume_token: resume_token.as_str().into(),
                owner,
                room: room.clone(),
                knock: None,
            }),
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
}
