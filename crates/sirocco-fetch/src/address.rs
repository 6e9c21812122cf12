//! Which addresses a fetch made for someone else may reach: the public internet only.
//!
//! Refused: loopback, private (RFC 1918, IPv6 unique local), link-local (169.254.0.0/16 with
//! the cloud metadata address, fe80::/10), CGNAT (100.64.0.0/10), multicast, unspecified,
//! broadcast and reserved blocks, and every IPv6 form that carries an IPv4 address a host
//! would route to one of those (IPv4-mapped and -compatible always; NAT64 and 6to4 by the
//! address they embed; Teredo always). Documentation blocks (TEST-NET, 2001:db8::/32) route
//! nowhere and are not refused: the tests put their "public" hosts there.
//!
//! This machine's own addresses are refused too, whatever they are ([`is_this_machine`]): on a
//! server with a public address, that address reaches every service listening on all interfaces.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether a fetch on a client's behalf may connect to `ip`.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => is_public_v6(a),
    }
}

/// Whether `ip` is one of this machine's interface addresses (read afresh: they change).
pub fn is_this_machine(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    let mut found = false;
    // SAFETY: getifaddrs gives a list we only read and then free; each address is read as the
    // family it says it is.
    unsafe {
        let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
        if libc::getifaddrs(&mut list) != 0 {
            // Unknown: the caller's other checks stand; refuse nothing more.
            return false;
        }
        let mut entry = list;
        while !entry.is_null() && !found {
            let addr = (*entry).ifa_addr;
            if !addr.is_null() {
                let here = match i32::from((*addr).sa_family) {
                    libc::AF_INET => {
                        let v4 = &*(addr as *const libc::sockaddr_in);
                        Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr))))
                    }
                    libc::AF_INET6 => {
                        let v6 = &*(addr as *const libc::sockaddr_in6);
                        Some(IpAddr::V6(Ipv6Addr::from(v6.sin6_addr.s6_addr)))
                    }
                    _ => None,
                };
                found = here == Some(ip);
            }
            entry = (*entry).ifa_next;
        }
        libc::freeifaddrs(list);
    }
    found
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    let refused = o[0] == 0 // "this network", 0.0.0.0 included
        || a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64.0.0/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18.0.0/15
        || a.is_multicast()
        || o[0] >= 240; // reserved, and the broadcast address
    !refused
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    if a.is_unspecified() || a.is_loopback() || a.is_multicast() {
        return false;
    }
    // ::ffff:a.b.c.d and the deprecated ::a.b.c.d: a host connects to the IPv4 address.
    if a.to_ipv4_mapped().is_some() || s[..6] == [0; 6] {
        return false;
    }
    match s[0] {
        x if x & 0xfe00 == 0xfc00 => false, // unique local fc00::/7
        x if x & 0xffc0 == 0xfe80 => false, // link-local fe80::/10
        x if x & 0xffc0 == 0xfec0 => false, // site-local (deprecated) fec0::/10
        0x0064 if s[1] == 0xff9b => {
            // NAT64: 64:ff9b::/96 embeds the IPv4 address; 64:ff9b:1::/48 is for local use.
            s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0 && is_public_v4(embedded(s[6], s[7]))
        }
        0x2002 => is_public_v4(embedded(s[1], s[2])), // 6to4
        0x2001 if s[1] == 0 => false,                 // Teredo tunnels to any IPv4 address
        0x0100 if s[1..4] == [0, 0, 0] => false,      // discard-only 100::/64
        _ => true,
    }
}

fn embedded(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn internal_addresses_are_refused_in_every_form() {
        for refused in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "172.16.5.4",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
            "2001::1",
            "100::1",
        ] {
            assert!(!public(refused), "{refused} must be refused");
        }
    }

    #[test]
    fn this_machines_addresses_are_known() {
        assert!(is_this_machine("127.0.0.1".parse().unwrap()));
        assert!(!is_this_machine("203.0.113.250".parse().unwrap()));
    }

    #[test]
    fn public_addresses_are_allowed() {
        for allowed in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "198.17.255.255",
            "198.20.0.1",
            "203.0.113.7",
            "2606:4700:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:db8::1",
        ] {
            assert!(public(allowed), "{allowed} is public");
        }
    }
}
