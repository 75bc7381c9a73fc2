//! The peer table as a pure state machine: inputs (mDNS resolved/removed, manual add, liveness
//! results) go in, [`PeerEvent`]s come out. The discovery task owns one and drives it.

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::peer::{Peer, PeerEvent, PeerSource, RemoveReason};

/// One listed (or recently lost) device and what liveness needs to know about it.
#[derive(Clone, Debug)]
struct Entry {
    peer: Peer,
    /// Where to probe `/healthz`, the last address that worked first.
    probe_addrs: Vec<SocketAddr>,
    /// Its mDNS instance full name, when it was found (or confirmed) by mDNS.
    fullname: Option<String>,
    /// Consecutive failed probes.
    misses: u32,
    /// A probe is in flight; do not start another.
    probing: bool,
}

/// A liveness probe to run: `(peer id, addresses to try in order)`.
pub(crate) type ProbeJob = (String, Vec<SocketAddr>);

/// Peers by id, plus the mDNS peers that stopped answering `/healthz` but whose records mDNS
/// still holds: those are kept probing, so a peer that was only briefly unreachable comes back
/// (mDNS would not announce it again since nothing about it changed).
#[derive(Debug, Default)]
pub(crate) struct PeerTable {
    live: HashMap<String, Entry>,
    lost: HashMap<String, Entry>,
    id_by_fullname: HashMap<String, String>,
}

impl PeerTable {
    /// All listed peers, sorted by name then id (stable for display and tests).
    pub(crate) fn peers(&self) -> Vec<Peer> {
        let mut peers: Vec<Peer> = self.live.values().map(|e| e.peer.clone()).collect();
        peers.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        peers
    }

    /// The listed peer with this id.
    #[cfg(test)]
    pub(crate) fn get(&self, id: &str) -> Option<&Peer> {
        self.live.get(id).map(|e| &e.peer)
    }

    /// mDNS resolved (or re-resolved) a service.
    pub(crate) fn mdns_resolved(
        &mut self,
        fullname: &str,
        peer: Peer,
        probe_addrs: Vec<SocketAddr>,
    ) -> Option<PeerEvent> {
        // The same device may come back under another instance name (conflict rename, restart).
        self.id_by_fullname
            .retain(|name, id| name == fullname || *id != peer.id);
        self.id_by_fullname
            .insert(fullname.to_owned(), peer.id.clone());
        self.lost.remove(&peer.id);
        let entry = Entry {
            peer,
            probe_addrs,
            fullname: Some(fullname.to_owned()),
            misses: 0,
            probing: false,
        };
        self.upsert(entry)
    }

    /// A device answered `GET /device` at an address the user gave (`Manual`) or at the
    /// address its introduction came from (`Introduced`). Returns the peer as listed (an mDNS
    /// listing of the same device wins) and the event.
    pub(crate) fn added_by_address(
        &mut self,
        peer: Peer,
        addr: SocketAddr,
    ) -> (Peer, Option<PeerEvent>) {
        if let Some(existing) = self.live.get(&peer.id) {
            return (existing.peer.clone(), None);
        }
        // A lost earlier life of this device is superseded: it answers here now.
        self.lost.remove(&peer.id);
        let listed = peer.clone();
        let entry = Entry {
            peer,
            probe_addrs: vec![addr],
            fullname: None,
            misses: 0,
            probing: false,
        };
        (listed, self.upsert(entry))
    }

    fn upsert(&mut self, mut entry: Entry) -> Option<PeerEvent> {
        match self.live.get_mut(&entry.peer.id) {
            Some(old) => {
                let changed = !old.peer.same_as(&entry.peer);
                entry.probing = old.probing;
                *old = entry;
                changed.then(|| PeerEvent::Updated {
                    peer: old.peer.clone(),
                })
            }
            None => {
                let peer = entry.peer.clone();
                self.live.insert(peer.id.clone(), entry);
                Some(PeerEvent::Added { peer })
            }
        }
    }

    /// mDNS says the instance is gone (goodbye packet or expired records).
    pub(crate) fn mdns_removed(&mut self, fullname: &str) -> Option<PeerEvent> {
        let id = self.id_by_fullname.remove(fullname)?;
        self.lost.remove(&id);
        // Only the listing that came from this instance goes: an earlier life's records
        // expiring must not remove the device that has since introduced itself again.
        if self.live.get(&id)?.fullname.as_deref() != Some(fullname) {
            return None;
        }
        let entry = self.live.remove(&id)?;
        Some(PeerEvent::Removed {
            peer: entry.peer,
            reason: RemoveReason::Goodbye,
        })
    }

    /// Every peer (listed or lost) with no probe in flight; marks them as probing.
    pub(crate) fn due_probes(&mut self) -> Vec<ProbeJob> {
        self.live
            .values_mut()
            .chain(self.lost.values_mut())
            .filter(|e| !e.probing && !e.probe_addrs.is_empty())
            .map(|e| {
                e.probing = true;
                (e.peer.id.clone(), e.probe_addrs.clone())
            })
            .collect()
    }

    /// A probe finished: `answered` is the address that answered, `None` if none did.
    /// Returns the mDNS instance to verify when the peer was just declared lost.
    pub(crate) fn probe_finished(
        &mut self,
        id: &str,
        answered: Option<SocketAddr>,
        now_ms: u64,
        max_misses: u32,
    ) -> (Option<PeerEvent>, Option<String>) {
        if let Some(mut entry) = self.lost.remove(id) {
            entry.probing = false;
            let Some(addr) = answered else {
                self.lost.insert(id.to_owned(), entry);
                return (None, None);
            };
            entry.misses = 0;
            entry.peer.last_seen_ms = now_ms;
            promote(&mut entry.probe_addrs, addr);
            return (self.upsert(entry), None);
        }
        let Some(entry) = self.live.get_mut(id) else {
            return (None, None);
        };
        entry.probing = false;
        if let Some(addr) = answered {
            entry.misses = 0;
            entry.peer.last_seen_ms = now_ms;
            promote(&mut entry.probe_addrs, addr);
            return (None, None);
        }
        entry.misses += 1;
        if entry.misses < max_misses {
            return (None, None);
        }
        let Some(entry) = self.live.remove(id) else {
            return (None, None);
        };
        let removed = PeerEvent::Removed {
            peer: entry.peer.clone(),
            reason: RemoveReason::Unreachable,
        };
        // Manual peers are simply gone; mDNS peers stay probed until mDNS forgets them.
        let verify = entry.fullname.clone();
        if entry.fullname.is_some() && entry.peer.source == PeerSource::Mdns {
            self.lost
                .insert(id.to_owned(), Entry { misses: 0, ..entry });
        }
        (Some(removed), verify)
    }
}

fn promote(addrs: &mut Vec<SocketAddr>, answered: SocketAddr) {
    if let Some(pos) = addrs.iter().position(|a| *a == answered) {
        let addr = addrs.remove(pos);
        addrs.insert(0, addr);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::peer::PeerSource;

    fn peer(id: &str, name: &str) -> Peer {
        Peer {
            id: id.into(),
            name: name.into(),
            addresses: vec!["10.0.0.2".parse().unwrap()],
            port: 4000,
            version: Some(1),
            compatible: true,
            app: "0.1.0".into(),
            os: "linux".into(),
            source: PeerSource::Mdns,
            last_seen_ms: 1,
        }
    }

    fn addr() -> SocketAddr {
        "10.0.0.2:4000".parse().unwrap()
    }

    fn added(table: &mut PeerTable, id: &str, name: &str) {
        let event = table.mdns_resolved(
            &format!("{name}._parley._tcp.local."),
            peer(id, name),
            vec![addr()],
        );
        assert!(matches!(event, Some(PeerEvent::Added { .. })));
    }

    #[test]
    fn a_rename_is_an_update_and_a_repeat_is_silent() {
        let mut table = PeerTable::default();
        added(&mut table, "a", "Alice");
        let again = Peer {
            last_seen_ms: 99,
            ..peer("a", "Alice")
        };
        assert_eq!(
            table.mdns_resolved("Alice._parley._tcp.local.", again, vec![addr()]),
            None
        );
        let renamed = table.mdns_resolved(
            "Alice._parley._tcp.local.",
            peer("a", "爱丽丝"),
            vec![addr()],
        );
        assert!(matches!(renamed, Some(PeerEvent::Updated { peer }) if peer.name == "爱丽丝"));
        assert_eq!(table.peers().len(), 1);
    }

    #[test]
    fn goodbye_removes_by_instance_name() {
        let mut table = PeerTable::default();
        added(&mut table, "a", "Alice");
        assert_eq!(table.mdns_removed("Unknown._parley._tcp.local."), None);
        let gone = table.mdns_removed("Alice._parley._tcp.local.");
        assert!(matches!(
            gone,
            Some(PeerEvent::Removed {
                reason: RemoveReason::Goodbye,
                ..
            })
        ));
        assert!(table.peers().is_empty());
    }

    #[test]
    fn a_new_instance_name_for_the_same_id_retires_the_old_one() {
        let mut table = PeerTable::default();
        added(&mut table, "a", "Alice");
        assert_eq!(
            table.mdns_resolved(
                "Alice (2)._parley._tcp.local.",
                peer("a", "Alice"),
                vec![addr()]
            ),
            None
        );
        // The old instance's goodbye must not remove the device.
        assert_eq!(table.mdns_removed("Alice._parley._tcp.local."), None);
        assert_eq!(table.peers().len(), 1);
    }

    #[test]
    fn misses_remove_after_the_limit_and_a_later_answer_brings_it_back() {
        let mut table = PeerTable::default();
        added(&mut table, "a", "Alice");
        assert_eq!(table.due_probes(), vec![("a".to_owned(), vec![addr()])]);
        assert!(
            table.due_probes().is_empty(),
            "one probe in flight per peer"
        );
        assert_eq!(table.probe_finished("a", None, 5, 2), (None, None));
        table.due_probes();
        let (event, verify) = table.probe_finished("a", None, 6, 2);
        assert!(matches!(
            event,
            Some(PeerEvent::Removed {
                reason: RemoveReason::Unreachable,
                ..
            })
        ));
        assert_eq!(verify.as_deref(), Some("Alice._parley._tcp.local."));
        assert!(table.peers().is_empty());
        // Still probed while lost; an answer lists it again.
        assert_eq!(table.due_probes().len(), 1);
        let (event, _) = table.probe_finished("a", Some(addr()), 7, 2);
        assert!(matches!(event, Some(PeerEvent::Added { peer }) if peer.last_seen_ms == 7));
    }

    #[test]
    fn a_lost_peer_is_forgotten_when_mdns_forgets_it() {
        let mut table = PeerTable::default();
        added(&mut table, "a", "Alice");
        table.due_probes();
        table.probe_finished("a", None, 5, 1);
        assert_eq!(table.mdns_removed("Alice._parley._tcp.local."), None);
        assert!(table.due_probes().is_empty());
    }

    #[test]
    fn an_answer_resets_misses_and_moves_the_working_address_first() {
        let mut table = PeerTable::default();
        let second: SocketAddr = "[fe80::1%2]:4000".parse().unwrap();
        table.mdns_resolved(
            "A._parley._tcp.local.",
            peer("a", "A"),
            vec![addr(), second],
        );
        table.due_probes();
        table.probe_finished("a", None, 2, 2);
        table.due_probes();
        assert_eq!(table.probe_finished("a", Some(second), 3, 2), (None, None));
        assert_eq!(table.get("a").unwrap().last_seen_ms, 3);
        assert_eq!(
            table.due_probes(),
            vec![("a".to_owned(), vec![second, addr()])]
        );
        // The earlier miss was forgotten: one more miss is not enough to remove it.
        assert_eq!(table.probe_finished("a", None, 4, 2), (None, None));
    }

    #[test]
    fn manual_peers_are_removed_for_good_and_mdns_listing_wins() {
        let mut table = PeerTable::default();
        let manual = Peer {
            source: PeerSource::Manual,
            ..peer("m", "Manual")
        };
        let (listed, event) = table.added_by_address(manual.clone(), addr());
        assert_eq!(listed, manual);
        assert!(matches!(event, Some(PeerEvent::Added { .. })));
        table.due_probes();
        let (event, verify) = table.probe_finished("m", None, 2, 1);
        assert!(matches!(event, Some(PeerEvent::Removed { .. })));
        assert_eq!(verify, None);
        assert!(table.due_probes().is_empty());

        added(&mut table, "a", "Alice");
        let (listed, event) = table.added_by_address(
            Peer {
                source: PeerSource::Manual,
                ..peer("a", "Alice")
            },
            addr(),
        );
        assert_eq!(listed.source, PeerSource::Mdns);
        assert_eq!(event, None);
    }

    #[test]
    fn an_introduced_peer_is_confirmed_by_mdns_and_survives_its_earlier_life_expiring() {
        let mut table = PeerTable::default();
        added(&mut table, "a", "Alice");
        // It crashes: liveness declares it lost; its old mDNS records are still cached.
        table.due_probes();
        table.probe_finished("a", None, 2, 1);
        assert!(table.peers().is_empty());

        // Restarted, it introduces itself from its new port before announcing.
        let new_addr: SocketAddr = "10.0.0.2:4001".parse().unwrap();
        let introduced = Peer {
            source: PeerSource::Introduced,
            port: 4001,
            ..peer("a", "Alice")
        };
        let (listed, event) = table.added_by_address(introduced, new_addr);
        assert_eq!(listed.source, PeerSource::Introduced);
        assert!(matches!(event, Some(PeerEvent::Added { .. })));
        // The old life's records expire: the new life stays listed and probed at its new port.
        assert_eq!(table.mdns_removed("Alice._parley._tcp.local."), None);
        assert_eq!(table.peers().len(), 1);
        assert_eq!(table.due_probes(), vec![("a".to_owned(), vec![new_addr])]);

        // Its announcement arrives: the same device, now as mDNS knows it.
        let confirmed = table.mdns_resolved(
            "Alice._parley._tcp.local.",
            Peer {
                port: 4001,
                ..peer("a", "Alice")
            },
            vec![new_addr],
        );
        assert!(
            matches!(confirmed, Some(PeerEvent::Updated { peer }) if peer.source == PeerSource::Mdns)
        );
        // And from then on its goodbye removes it.
        assert!(matches!(
            table.mdns_removed("Alice._parley._tcp.local."),
            Some(PeerEvent::Removed { .. })
        ));
    }
}
