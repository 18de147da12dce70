//! Server-side request forgery: a URL or host the server may fetch that points at cloud
//! metadata, loopback, private or link-local addresses (also as `inet_aton` forms, mapped IPv6,
//! wildcard DNS), or uses a scheme only attacks use. Parsed with `std::net`, never as text.

use std::{
    borrow::Cow,
    net::{Ipv4Addr, Ipv6Addr},
};

use super::{Finding, Value, text};
use crate::detection::{category::Category, hit::Part, signatures::classes::Classes};

/// Longer values are not addresses anyone types.
const MAX_URL: usize = 2048;

/// Whether [`check`] would parse the value: it has a scheme, or may be a host and is named
/// as something the server fetches. Ordered so that an ordinary value is refused on its byte
/// kinds, or its first bytes, before its name is read.
#[inline]
pub fn may_match(v: &Value<'_>) -> bool {
    // Without a colon there is no scheme, and without a name (or in a header) no host is
    // read as fetched: a path segment, a plain header value, end here, inlined.
    let named = v.part != Part::Header && v.name.is_some();
    (named || v.classes.any(Classes::COLON)) && may_match_text(v)
}

/// The rest of [`may_match`]: what the value and its name say.
#[inline(never)]
fn may_match_text(v: &Value<'_>) -> bool {
    let t = trim(v.text);
    let b = t.as_bytes();
    if t.is_empty() || t.len() > MAX_URL {
        return false;
    }
    if v.classes.any(Classes::COLON) && text::contains(b, b"://") {
        return true;
    }
    v.part != Part::Header
        && v.name
            .is_some_and(|name| maybe_host(b, v.classes) && is_fetch_name(name))
}

/// `text.trim()`, without walking the Unicode whitespace tables when the ends are plainly
/// not whitespace (what nearly every value's are).
fn trim(text: &str) -> &str {
    let b = text.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) if f > b' ' && f < 0x80 && l > b' ' && l < 0x80 => text,
        _ => text.trim(),
    }
}

pub fn check(v: &Value<'_>) -> Option<Finding> {
    let t = trim(v.text);
    let b = t.as_bytes();
    if t.is_empty() || t.len() > MAX_URL {
        return None;
    }
    let has_scheme = text::contains(b, b"://");
    if !has_scheme && !maybe_host(b, v.classes) {
        return None;
    }
    // In headers a URL is where the client came from (`Referer: http://localhost:3000/`), not
    // what the server fetches.
    let fetch_name = v.part != Part::Header && v.name.is_some_and(is_fetch_name);
    if !(has_scheme || fetch_name) {
        return None;
    }
    let target = parse(t, fetch_name)?;
    if let Some(scheme) = target.scheme
        && let Some(s) = DANGEROUS_SCHEMES
            .iter()
            .find(|s| s.eq_ignore_ascii_case(scheme))
    {
        let mut f = Finding::new(Category::Ssrf, "dangerous_scheme", 0.85);
        f.detail = Some(format!("{s}://"));
        return Some(f);
    }
    let mut addr = classify(&target.host, target.scheme.is_some())?;
    addr.encoded |= target.unusual;
    let mut f = match addr.class {
        Class::Metadata => Finding::new(Category::Ssrf, "cloud_metadata", 0.95),
        _ if addr.encoded => Finding::new(Category::Ssrf, "encoded_address", 0.9),
        _ if !fetch_name => return None,
        // RFC 8252 has native apps receive OAuth redirects on loopback.
        Class::Loopback if v.name.is_some_and(is_redirect_uri) => return None,
        _ => Finding::new(Category::Ssrf, "internal_address", 0.75),
    };
    f.detail = Some(addr.class.name().to_owned());
    Some(f)
}

/// Schemes that reach services an HTTP fetch cannot (Redis, memcached, LDAP, Java's
/// archives), and that no ordinary parameter carries.
const DANGEROUS_SCHEMES: [&str; 9] = [
    "gopher", "dict", "tftp", "jar", "netdoc", "ldap", "ldaps", "ldapi", "rmi",
];

/// Whether a value without a scheme could be a host, before its name is read: dotted or with
/// a port or brackets, a number (`2130706433`, `0x7f000001`), or one of the internal names
/// that have no dot.
fn maybe_host(b: &[u8], c: Classes) -> bool {
    c.any(Classes::DOT | Classes::COLON | Classes::NON_ASCII)
        || b.first() == Some(&b'[')
        || maybe_bare_host(b)
}

/// [`maybe_host`] for a value without dots, colons or brackets: a number, or one of the
/// internal names, told apart by the first byte (most values fail on it).
pub fn maybe_bare_host(b: &[u8]) -> bool {
    match b.first() {
        Some(b'0'..=b'9') => {
            (b.len() >= 8 && b.iter().all(u8::is_ascii_digit)) || text::starts_with_ci(b, b"0x")
        }
        Some(b'l' | b'L') => text::starts_with_ci(b, b"localhost"),
        Some(b'm' | b'M') => text::starts_with_ci(b, b"metadata"),
        Some(b'i' | b'I') => {
            text::starts_with_ci(b, b"instance-data") || text::starts_with_ci(b, b"ip6-")
        }
        _ => false,
    }
}

/// Whether a parameter's name says the server will fetch or follow its value: it contains
/// `url`, `uri`, `link`, `callback`, `webhook`, `hook`, `redirect`, `next`, `dest`, `target`,
/// `host`, `feed`, `image`, `img`, `src`, `proxy`, `endpoint`, `fetch`, `remote`, `domain`,
/// `site`, `return` or `goto`. Read once, the parts grouped by first letter: this runs for
/// every named value that could be an address.
fn is_fetch_name(name: &str) -> bool {
    let Some(lower) = text::Lower::<64>::of(name.as_bytes()) else {
        return false;
    };
    let b = lower.as_bytes();
    (0..b.len()).any(|i| {
        let rest = b.get(i..).unwrap_or_default();
        let parts: &[&[u8]] = match rest.first() {
            Some(b'u') => &[b"url", b"uri"],
            Some(b'l') => &[b"link"],
            Some(b'c') => &[b"callback"],
            Some(b'w') => &[b"webhook"],
            Some(b'h') => &[b"hook", b"host"],
            Some(b'r') => &[b"redirect", b"remote", b"return"],
            Some(b'n') => &[b"next"],
            Some(b'd') => &[b"dest", b"domain"],
            Some(b't') => &[b"target"],
            Some(b'f') => &[b"feed", b"fetch"],
            Some(b'i') => &[b"image", b"img"],
            Some(b's') => &[b"src", b"site"],
            Some(b'p') => &[b"proxy"],
            Some(b'e') => &[b"endpoint"],
            Some(b'g') => &[b"goto"],
            _ => &[],
        };
        parts.iter().any(|p| rest.starts_with(p))
    })
}

fn is_redirect_uri(name: &str) -> bool {
    [
        "redirect_uri",
        "redirect_url",
        "redirecturi",
        "redirecturl",
        "redirect-uri",
    ]
    .iter()
    .any(|n| n.eq_ignore_ascii_case(name))
}

struct Target<'a> {
    scheme: Option<&'a str>,
    /// The host was written with look-alike characters.
    unusual: bool,
    /// Lowercase, look-alike dots folded, no trailing dot.
    host: Cow<'a, str>,
}

/// The scheme and host of a URL (`scheme://[user@]host[:port]/…`), or of a bare
/// `host[:port][/…]` when `bare` allows it.
fn parse(t: &str, bare: bool) -> Option<Target<'_>> {
    if t.bytes().next().is_some_and(|c| c.is_ascii_whitespace()) {
        return None;
    }
    let (scheme, rest) = match t.split_once("://") {
        Some((s, rest)) if is_scheme(s) => (Some(s), rest),
        Some(_) => return None,
        None if bare => (None, t.strip_prefix("//").unwrap_or(t)),
        None => return None,
    };
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    // Prose that mentions a URL is not one; a decoded path may hold spaces.
    if authority.bytes().any(|c| c.is_ascii_whitespace()) {
        return None;
    }
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(inner) = hostport.strip_prefix('[') {
        inner.split(']').next()?
    } else if hostport.matches(':').nth(1).is_some() && hostport.parse::<Ipv6Addr>().is_ok() {
        hostport
    } else {
        // Whatever follows the first `:` is a port to the resolver, however odd
        // (`localhost:+11211aaa`, `127.1.1.1:80:\@…`).
        hostport.split(':').next()?
    };
    let unusual = !host.is_ascii();
    let host: Cow<'_, str> = if unusual || host.bytes().any(|c| c.is_ascii_uppercase()) {
        let folded: String = host.chars().filter_map(fold).collect();
        Cow::Owned(folded.trim_end_matches('.').to_owned())
    } else {
        Cow::Borrowed(host.trim_end_matches('.'))
    };
    (!host.is_empty()).then_some(Target {
        scheme,
        unusual,
        host,
    })
}

/// A host's character as a resolver sees it: lowercase ASCII, with the look-alike dots and the
/// enclosed and fullwidth digits and letters (`①②⑦.⓪.⓪.①`) that IDNA maps to ASCII.
fn fold(c: char) -> Option<char> {
    let code = u32::from(c);
    let ascii = match code {
        0x3002 | 0xFF0E | 0xFF61 => u32::from(b'.'),
        0x2460..=0x2468 => code - 0x2460 + u32::from(b'1'),
        0x24EA | 0x24FF => u32::from(b'0'),
        0x24B6..=0x24CF => code - 0x24B6 + u32::from(b'a'),
        0x24D0..=0x24E9 => code - 0x24D0 + u32::from(b'a'),
        0xFF10..=0xFF19 => code - 0xFF10 + u32::from(b'0'),
        0xFF21..=0xFF3A => code - 0xFF21 + u32::from(b'a'),
        0xFF41..=0xFF5A => code - 0xFF41 + u32::from(b'a'),
        _ => return Some(c.to_ascii_lowercase()),
    };
    char::from_u32(ascii)
}

fn is_scheme(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.len() <= 32
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Metadata,
    Loopback,
    Unspecified,
    Private,
    LinkLocal,
}

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::Metadata => "cloud metadata",
            Class::Loopback => "loopback",
            Class::Unspecified => "unspecified address",
            Class::Private => "private network",
            Class::LinkLocal => "link-local",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Addr {
    class: Class,
    /// Written in a form other than plain dotted decimal: a filter evasion.
    encoded: bool,
}

/// Where a host points, when that is inside; `url`: it came in a URL (a bare small number is
/// then an address, not a page number).
fn classify(host: &str, url: bool) -> Option<Addr> {
    // Only what could be an address is parsed as one (`app.example.com` is read once).
    if host.contains(':')
        && let Ok(v6) = host.split('%').next().unwrap_or(host).parse::<Ipv6Addr>()
    {
        return classify_v6(v6);
    }
    if host.starts_with(|c: char| c.is_ascii_digit())
        && let Some((v4, canonical, parts)) = ipv4_loose(host)
    {
        if !url && parts == 1 && u32::from(v4) < 1 << 24 {
            return None;
        }
        return classify_v4(v4).map(|class| Addr {
            class,
            encoded: !canonical,
        });
    }
    let named = |class| {
        Some(Addr {
            class,
            encoded: false,
        })
    };
    match host {
        "metadata.google.internal"
        | "metadata.goog"
        | "metadata"
        | "instance-data"
        | "instance-data.ec2.internal" => return named(Class::Metadata),
        "localhost" | "localhost.localdomain" | "ip6-localhost" | "ip6-loopback" => {
            return named(Class::Loopback);
        }
        "kubernetes.default"
        | "kubernetes.default.svc"
        | "kubernetes.default.svc.cluster.local" => {
            return named(Class::Private);
        }
        _ => {}
    }
    if host.ends_with(".localhost") || host == "localtest.me" || host.ends_with(".localtest.me") {
        return named(Class::Loopback);
    }
    // A name ending in an address's four labels (`example.com.127.0.0.1`) is that address
    // to resolvers and wildcard DNS that read it so, and to nothing else.
    let mut labels = host.rsplit('.');
    let last: [Option<&str>; 4] = [labels.next(), labels.next(), labels.next(), labels.next()];
    let numeric = |l: &Option<&str>| {
        l.is_some_and(|l| !l.is_empty() && l.bytes().all(|c| c.is_ascii_digit()))
    };
    if labels.next().is_some() && last.iter().all(numeric) {
        let spelled: Vec<&str> = last.iter().rev().flatten().copied().collect();
        if let Some((v4, _, _)) = ipv4_loose(&spelled.join(".")) {
            return classify_v4(v4).map(|class| Addr {
                class,
                encoded: true,
            });
        }
    }
    // Wildcard DNS that answers with the address spelled in the name.
    for suffix in [".nip.io", ".sslip.io", ".xip.io"] {
        if let Some(prefix) = host.strip_suffix(suffix) {
            let labels: Vec<&str> = prefix.rsplit(['.', '-']).take(4).collect();
            let spelled: Vec<&str> = labels.into_iter().rev().collect();
            let (v4, _, _) = ipv4_loose(&spelled.join("."))?;
            return classify_v4(v4).map(|class| Addr {
                class,
                encoded: true,
            });
        }
    }
    None
}

fn classify_v4(ip: Ipv4Addr) -> Option<Class> {
    let [a, b, _, _] = ip.octets();
    if [
        Ipv4Addr::new(169, 254, 169, 254),
        Ipv4Addr::new(169, 254, 170, 2),
        Ipv4Addr::new(100, 100, 100, 200),
        Ipv4Addr::new(192, 0, 0, 192),
    ]
    .contains(&ip)
    {
        Some(Class::Metadata)
    } else if ip.is_loopback() {
        Some(Class::Loopback)
    } else if a == 0 {
        // 0.0.0.0/8 reaches the host itself on Linux.
        Some(Class::Unspecified)
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Some(Class::Private)
    } else if ip.is_link_local() {
        Some(Class::LinkLocal)
    } else {
        None
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4).map(|class| Addr {
            class,
            encoded: true,
        });
    }
    let seg = ip.segments();
    let class = if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        Class::Metadata
    } else if ip.is_loopback() {
        Class::Loopback
    } else if ip.is_unspecified() {
        Class::Unspecified
    } else if seg[0] & 0xfe00 == 0xfc00 {
        Class::Private
    } else if seg[0] & 0xffc0 == 0xfe80 {
        Class::LinkLocal
    } else if seg[..6] == [0; 6] {
        // IPv4-compatible (`::127.0.0.1`), deprecated but still parsed.
        let v4 = Ipv4Addr::from(u32::from(seg[6]) << 16 | u32::from(seg[7]));
        return classify_v4(v4).map(|class| Addr {
            class,
            encoded: true,
        });
    } else {
        return None;
    };
    Some(Addr {
        class,
        encoded: false,
    })
}

/// An IPv4 address as `inet_aton` reads it: one to four parts, each decimal, `0x` hex or
/// `0`-led octal, the last filling the remaining bytes. With whether it was written as plain
/// dotted decimal, and how many parts it had.
fn ipv4_loose(s: &str) -> Option<(Ipv4Addr, bool, usize)> {
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    let mut parts = [0u64; 4];
    let mut count = 0;
    let mut canonical = true;
    for part in s.split('.') {
        let slot = parts.get_mut(count)?;
        count += 1;
        let (digits, radix) =
            if let Some(h) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
                (h, 16)
            } else if part.len() > 1 && part.starts_with('0') {
                (part.get(1..).unwrap_or_default(), 8)
            } else {
                (part, 10)
            };
        if radix != 10 {
            canonical = false;
        }
        if digits.is_empty() {
            // `0x` alone is 0 to inet_aton; an empty part is no address.
            if radix == 16 {
                continue;
            }
            return None;
        }
        if digits.len() > 12 || !digits.bytes().all(|c| (c as char).is_digit(radix)) {
            return None;
        }
        *slot = u64::from_str_radix(digits, radix).ok()?;
    }
    let [a, b, c, d] = parts;
    let value = match count {
        1 => a,
        2 if a <= 0xff && b <= 0xff_ffff => a << 24 | b,
        3 if a <= 0xff && b <= 0xff && c <= 0xffff => a << 24 | b << 16 | c,
        4 if [a, b, c, d].iter().all(|&x| x <= 0xff) => a << 24 | b << 16 | c << 8 | d,
        _ => return None,
    };
    let value = u32::try_from(value).ok()?;
    Some((Ipv4Addr::from(value), canonical && count == 4, count))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{rule, run};
    use super::*;

    fn url(raw: &str) -> Option<&'static str> {
        rule(Category::Ssrf, "url", raw)
    }

    #[test]
    fn internal_targets() {
        for (p, r) in [
            ("http://169.254.169.254/latest/meta-data/", "cloud_metadata"),
            ("http://metadata.google.internal/", "cloud_metadata"),
            ("http://[fd00:ec2::254]/", "cloud_metadata"),
            ("http://2852039166/", "cloud_metadata"),
            ("http://127.0.0.1:6379/", "internal_address"),
            ("http://localhost/admin", "internal_address"),
            ("http://[::1]:8080/", "internal_address"),
            ("http://evil.example@10.0.0.1/", "internal_address"),
            ("http://2130706433/", "encoded_address"),
            ("http://0x7f000001/", "encoded_address"),
            ("http://0177.0.0.1/", "encoded_address"),
            ("http://127.1/", "encoded_address"),
            ("http://0/", "encoded_address"),
            ("http://[::ffff:127.0.0.1]/", "encoded_address"),
            ("http://127.0.0.1.nip.io/", "encoded_address"),
            ("gopher://127.0.0.1:6379/_x", "dangerous_scheme"),
            ("dict://example.com:11211/", "dangerous_scheme"),
            ("127.0.0.1:22", "internal_address"),
            ("http://①②⑦.⓪.⓪.①/", "encoded_address"),
            ("http://ｌｏｃａｌｈｏｓｔ/", "encoded_address"),
            ("http://example.com.127.0.0.1/", "encoded_address"),
            ("localhost:%2B11211aaa", "internal_address"),
            ("http://127.1.1.1:80:\\@@127.2.2.2:80/", "internal_address"),
        ] {
            assert_eq!(url(p), Some(r), "{p}");
        }
    }

    #[test]
    fn public_and_ordinary_values_pass() {
        for p in [
            "https://www.example.com/page?x=1",
            "http://example.org/",
            "/dashboard",
            "2",
            "0",
            "_blank",
            "example.com:443",
            "https://8.8.8.8/",
        ] {
            assert_eq!(url(p), None, "{p}");
        }
        // Loopback redirects of native apps, internal URLs under names nothing fetches, and
        // where a browser came from.
        assert_eq!(
            rule(Category::Ssrf, "redirect_uri", "http://127.0.0.1:8400/"),
            None
        );
        assert_eq!(
            rule(Category::Ssrf, "api_base", "http://localhost:11434"),
            None
        );
        assert_eq!(rule(Category::Ssrf, "ip", "10.0.0.5"), None);
        assert_eq!(
            run(
                Category::Ssrf,
                Part::Header,
                Some("referer"),
                "http://localhost:3000/"
            ),
            None
        );
        // ...but the metadata service is never an ordinary target.
        assert_eq!(
            rule(Category::Ssrf, "api_base", "http://169.254.169.254/"),
            Some("cloud_metadata")
        );
    }

    #[test]
    fn fetch_names() {
        for n in [
            "url",
            "image_url",
            "callbackUrl",
            "WEBHOOK",
            "next",
            "redirect_uri",
            "src",
            "website",
        ] {
            assert!(is_fetch_name(n), "{n}");
        }
        for n in ["q", "id", "api_base", "local_address", "page", "sort", "ip"] {
            assert!(!is_fetch_name(n), "{n}");
        }
    }

    #[test]
    fn inet_aton_forms() {
        let ip = |s| ipv4_loose(s).map(|(a, c, _)| (a.to_string(), c));
        assert_eq!(ip("127.0.0.1"), Some(("127.0.0.1".into(), true)));
        assert_eq!(ip("0x7f.1"), Some(("127.0.0.1".into(), false)));
        assert_eq!(ip("017700000001"), Some(("127.0.0.1".into(), false)));
        assert_eq!(ip("10.1"), Some(("10.0.0.1".into(), false)));
        assert_eq!(ip("1.2.3.256"), None);
        assert_eq!(ip("1..2"), None);
        assert_eq!(ip("4294967296"), None);
        assert_eq!(ip("09"), None);
        assert_eq!(ip("1.2.3.4.5"), None);
    }
}
