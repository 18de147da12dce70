//! Addresses no decision can block: the host's own (always), loopback (unless turned off),
//! configured CIDRs and trusted proxies. Checked before anything reaches the kernel.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::policy::EnforcementPolicy;

/// Why an address is never blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    HostAddress,
    Loopback,
    Configured,
    TrustedProxy,
}

impl Allowed {
    pub const fn name(self) -> &'static str {
        match self {
            Allowed::HostAddress => "host_address",
            Allowed::Loopback => "loopback",
            Allowed::Configured => "allowlist",
            Allowed::TrustedProxy => "trusted_proxy",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Allowlist {
    loopback: bool,
    configured: Vec<IpNet>,
    proxies: Vec<IpNet>,
    /// This host's interface addresses, refreshed by the owner (`refresh_host`).
    host: Vec<IpAddr>,
}

impl Allowlist {
    pub fn new(policy: &EnforcementPolicy, host: Vec<IpAddr>) -> Self {
        Self {
            loopback: policy.allow_loopback,
            configured: policy.allow.clone(),
            proxies: policy.trusted_proxies.clone(),
            host,
        }
    }

    pub fn set_host_addresses(&mut self, host: Vec<IpAddr>) {
        self.host = host;
    }

    /// Why `ip` must never be blocked, if it must not.
    pub fn allows(&self, ip: IpAddr) -> Option<Allowed> {
        let ip = canonical(ip);
        if self.host.iter().any(|h| canonical(*h) == ip) || ip.is_unspecified() {
            return Some(Allowed::HostAddress);
        }
        if self.loopback && ip.is_loopback() {
            return Some(Allowed::Loopback);
        }
        if self.proxies.iter().any(|n| n.contains(&ip)) {
            return Some(Allowed::TrustedProxy);
        }
        if self.configured.iter().any(|n| n.contains(&ip)) {
            return Some(Allowed::Configured);
        }
        None
    }

    /// Why a block of the whole `net` must be refused: it holds an address that is never
    /// blocked (an operator's `--ip 10.0.0.0/8` must not cut the host off from itself).
    pub fn overlaps(&self, net: IpNet) -> Option<Allowed> {
        let net = canonical_net(net);
        if let Some(_h) = self.host.iter().find(|h| net.contains(&canonical(**h))) {
            return Some(Allowed::HostAddress);
        }
        let loopback: [IpNet; 2] = [
            IpNet::new_assert(IpAddr::V4(Ipv4Addr::LOCALHOST), 8),
            IpNet::new_assert(IpAddr::V6(Ipv6Addr::LOCALHOST), 128),
        ];
        if self.loopback && loopback.iter().any(|l| intersects(*l, net)) {
            return Some(Allowed::Loopback);
        }
        if self.proxies.iter().any(|n| intersects(*n, net)) {
            return Some(Allowed::TrustedProxy);
        }
        if self.configured.iter().any(|n| intersects(*n, net)) {
            return Some(Allowed::Configured);
        }
        None
    }
}

/// The host's interface addresses now (an empty list if the kernel cannot say: the caller
/// then refuses to block anything, see `Enforcer`).
pub fn host_addresses() -> std::io::Result<Vec<IpAddr>> {
    Ok(if_addrs::get_if_addrs()?
        .into_iter()
        .map(|i| i.ip())
        .collect())
}

/// A v4-mapped IPv6 address (`::ffff:10.0.0.2`, what a dual-stack listener sees) as IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

pub fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => IpNet::new_assert(IpAddr::V4(v4), v6.prefix_len() - 96),
            None => net,
        },
        _ => net,
    }
}

fn intersects(a: IpNet, b: IpNet) -> bool {
    a.contains(&b) || b.contains(&a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(policy: EnforcementPolicy) -> Allowlist {
        Allowlist::new(&policy, vec!["192.0.2.10".parse().unwrap()])
    }

    #[test]
    fn host_and_loopback_are_never_blocked_by_default() {
        let a = list(EnforcementPolicy::default());
        assert_eq!(
            a.allows("192.0.2.10".parse().unwrap()),
            Some(Allowed::HostAddress)
        );
        assert_eq!(
            a.allows("::ffff:192.0.2.10".parse().unwrap()),
            Some(Allowed::HostAddress)
        );
        assert_eq!(
            a.allows("127.0.0.5".parse().unwrap()),
            Some(Allowed::Loopback)
        );
        assert_eq!(a.allows("::1".parse().unwrap()), Some(Allowed::Loopback));
        assert_eq!(a.allows("198.51.100.7".parse().unwrap()), None);
    }

    #[test]
    fn loopback_can_be_opened_but_the_host_cannot() {
        let a = list(EnforcementPolicy {
            allow_loopback: false,
            ..Default::default()
        });
        assert_eq!(a.allows("127.0.0.5".parse().unwrap()), None);
        assert_eq!(
            a.allows("192.0.2.10".parse().unwrap()),
            Some(Allowed::HostAddress)
        );
    }

    #[test]
    fn configured_and_proxies_cover_their_ranges_and_wide_blocks_are_refused() {
        let a = list(EnforcementPolicy {
            allow: vec!["10.1.0.0/16".parse().unwrap()],
            trusted_proxies: vec!["10.9.9.9/32".parse().unwrap()],
            ..Default::default()
        });
        assert_eq!(
            a.allows("10.1.200.3".parse().unwrap()),
            Some(Allowed::Configured)
        );
        assert_eq!(
            a.allows("10.9.9.9".parse().unwrap()),
            Some(Allowed::TrustedProxy)
        );
        assert_eq!(a.allows("10.2.0.1".parse().unwrap()), None);
        assert_eq!(
            a.overlaps("10.0.0.0/8".parse().unwrap()),
            Some(Allowed::TrustedProxy)
        );
        assert_eq!(
            a.overlaps("192.0.2.0/24".parse().unwrap()),
            Some(Allowed::HostAddress)
        );
        assert_eq!(
            a.overlaps("0.0.0.0/0".parse().unwrap()),
            Some(Allowed::HostAddress)
        );
        assert_eq!(a.overlaps("10.2.0.0/16".parse().unwrap()), None);
        assert_eq!(
            a.overlaps("::ffff:10.1.0.0/112".parse().unwrap()),
            Some(Allowed::Configured)
        );
    }
}
