//! Mapping between a device's info and its DNS-SD records (instance name, TXT, addresses).

use std::net::{IpAddr, SocketAddr, SocketAddrV4, SocketAddrV6};

use mdns_sd::{ResolvedService, ScopedIp, ServiceInfo};
use parley_protocol::{DeviceInfo, PROTOCOL_VERSION};

use crate::peer::{Peer, PeerSource};
use crate::{DiscoveryError, SERVICE_TYPE};

/// A DNS label holds at most 63 bytes.
const MAX_INSTANCE_BYTES: usize = 63;
/// A TXT string holds 255 bytes: `name=` plus the value must fit.
const MAX_TXT_NAME_BYTES: usize = 250;

/// The longest prefix of `text` that fits in `max` bytes without splitting a character.
pub(crate) fn truncate_utf8(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The mDNS instance name for a display name: readable in other browsers (Avahi, Bonjour).
/// Conflicts with another device's instance are resolved by mdns-sd's probing ("Name (2)");
/// the TXT `name` stays the truth.
pub(crate) fn instance_name(display_name: &str) -> String {
    let trimmed = truncate_utf8(display_name.trim(), MAX_INSTANCE_BYTES).trim();
    if trimmed.is_empty() {
        "Parley".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The mDNS host name for a device: unique per device id, so devices sharing a machine name
/// (containers, namespaces, factory-default hostnames) never fight over address records.
pub(crate) fn host_name(device_id: &str) -> String {
    let short: String = device_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    format!("parley-{}.local.", short.to_ascii_lowercase())
}

/// The TXT record: `id`, `name`, `v`, `app`, `os`.
pub(crate) fn txt_properties(info: &DeviceInfo) -> Vec<(&'static str, String)> {
    vec![
        ("id", info.id.clone()),
        (
            "name",
            truncate_utf8(&info.name, MAX_TXT_NAME_BYTES).to_owned(),
        ),
        ("v", info.version.to_string()),
        ("app", info.app.clone()),
        ("os", info.os.clone()),
    ]
}

/// The service this device registers; addresses follow the interfaces automatically.
pub(crate) fn service_info(
    info: &DeviceInfo,
    instance: &str,
    port: u16,
) -> Result<ServiceInfo, DiscoveryError> {
    let service = ServiceInfo::new(
        SERVICE_TYPE,
        instance,
        &host_name(&info.id),
        (),
        port,
        &txt_properties(info)[..],
    )?;
    Ok(service.enable_addr_auto())
}

/// A resolved mDNS service as a peer, plus the socket addresses to probe it on.
pub(crate) fn peer_from_service(service: &ResolvedService, now_ms: u64) -> (Peer, Vec<SocketAddr>) {
    let txt = |key: &str| service.get_property_val_str(key).map(str::to_owned);
    // A service without our TXT (another implementation, a hand-made publish) is still listed,
    // keyed by its instance name and marked incompatible.
    let id = txt("id")
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| service.fullname.clone());
    let name = txt("name").unwrap_or_else(|| instance_from_fullname(&service.fullname));
    let version = txt("v").and_then(|v| v.trim().parse::<u32>().ok());
    let mut scoped: Vec<&ScopedIp> = service.addresses.iter().collect();
    scoped.sort_by_key(|ip| (address_rank(&ip.to_ip_addr()), ip.to_ip_addr()));
    let port = service.port;
    let probe_addrs = scoped.iter().map(|ip| socket_addr(ip, port)).collect();
    let peer = Peer {
        id,
        name,
        addresses: scoped.iter().map(|ip| ip.to_ip_addr()).collect(),
        port,
        version,
        compatible: version == Some(PROTOCOL_VERSION),
        app: txt("app").unwrap_or_default(),
        os: txt("os").unwrap_or_default(),
        source: PeerSource::Mdns,
        last_seen_ms: now_ms,
    };
    (peer, probe_addrs)
}

/// Best first: IPv4, global IPv6, link-local IPv6, loopback last.
pub(crate) fn address_rank(ip: &IpAddr) -> u8 {
    match ip {
        ip if ip.is_loopback() => 3,
        IpAddr::V4(_) => 0,
        IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80 => 2,
        IpAddr::V6(_) => 1,
    }
}

fn socket_addr(ip: &ScopedIp, port: u16) -> SocketAddr {
    match ip {
        ScopedIp::V6(v6) => {
            let link_local = v6.addr().segments()[0] & 0xffc0 == 0xfe80;
            let scope = if link_local { v6.scope_id().index } else { 0 };
            SocketAddr::V6(SocketAddrV6::new(*v6.addr(), port, 0, scope))
        }
        other => match other.to_ip_addr() {
            IpAddr::V4(v4) => SocketAddr::V4(SocketAddrV4::new(v4, port)),
            IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, 0)),
        },
    }
}

/// `My\.Name._parley._tcp.local.` -> `My.Name`.
fn instance_from_fullname(fullname: &str) -> String {
    let instance = fullname.strip_suffix(SERVICE_TYPE).unwrap_or(fullname);
    let instance = instance.strip_suffix('.').unwrap_or(instance);
    instance.replace("\\.", ".").replace("\\\\", "\\")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn info(name: &str, version: u32) -> DeviceInfo {
        DeviceInfo {
            id: "0123456789abcdef0123456789abcdef".into(),
            name: name.into(),
            version,
            app: "0.1.0".into(),
            os: "linux".into(),
        }
    }

    fn resolved(info: &DeviceInfo, addrs: &str) -> ResolvedService {
        ServiceInfo::new(
            SERVICE_TYPE,
            &instance_name(&info.name),
            &host_name(&info.id),
            addrs,
            4242,
            &txt_properties(info)[..],
        )
        .unwrap()
        .as_resolved_service()
    }

    #[test]
    fn txt_round_trips_a_chinese_name() {
        let me = info("客厅的电脑", PROTOCOL_VERSION);
        let (peer, probe) = peer_from_service(&resolved(&me, "192.168.1.5"), 7);
        assert_eq!(peer.id, me.id);
        assert_eq!(peer.name, "客厅的电脑");
        assert_eq!(peer.version, Some(PROTOCOL_VERSION));
        assert!(peer.compatible);
        assert_eq!((peer.app.as_str(), peer.os.as_str()), ("0.1.0", "linux"));
        assert_eq!(peer.port, 4242);
        assert_eq!(
            probe,
            vec!["192.168.1.5:4242".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(peer.last_seen_ms, 7);
    }

    #[test]
    fn another_protocol_version_is_listed_as_incompatible() {
        let (peer, _) =
            peer_from_service(&resolved(&info("Old", PROTOCOL_VERSION + 1), "10.0.0.2"), 0);
        assert_eq!(peer.version, Some(PROTOCOL_VERSION + 1));
        assert!(!peer.compatible);
    }

    #[test]
    fn a_service_without_our_txt_is_keyed_by_its_instance_name() {
        let bare = ServiceInfo::new(
            SERVICE_TYPE,
            "Some.Printer",
            "p.local.",
            "10.0.0.9",
            80,
            None,
        )
        .unwrap()
        .as_resolved_service();
        let (peer, _) = peer_from_service(&bare, 0);
        assert_eq!(peer.name, "Some.Printer");
        assert_eq!(peer.id, bare.fullname);
        assert_eq!(peer.version, None);
        assert!(!peer.compatible);
    }

    #[test]
    fn addresses_are_ordered_ipv4_first_then_global_then_link_local() {
        let me = info("A", PROTOCOL_VERSION);
        let (peer, _) = peer_from_service(&resolved(&me, "fe80::1,2001:db8::1,10.0.0.1"), 0);
        let want: Vec<IpAddr> = ["10.0.0.1", "2001:db8::1", "fe80::1"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(peer.addresses, want);
    }

    #[test]
    fn names_are_cut_at_character_boundaries() {
        let long = "名".repeat(40); // 120 bytes
        let instance = instance_name(&long);
        assert!(instance.len() <= MAX_INSTANCE_BYTES);
        assert_eq!(instance, "名".repeat(21));
        assert_eq!(instance_name("   "), "Parley");
        let huge = "é".repeat(300);
        let txt = txt_properties(&info(&huge, 1));
        assert!(txt[1].1.len() <= MAX_TXT_NAME_BYTES);
        assert!(ServiceInfo::new(SERVICE_TYPE, "x", "x.local.", (), 1, &txt[..]).is_ok());
    }

    #[test]
    fn host_names_are_unique_per_id_and_dns_safe() {
        assert_eq!(
            host_name("0123456789ABCDEFxyz"),
            "parley-0123456789ab.local."
        );
        assert_ne!(host_name("aaaaaaaaaaaa1"), host_name("bbbbbbbbbbbb1"));
    }
}
