//! String formats (JSON Schema `format`) recognised per value; a field keeps a format only if
//! every value seen matched it.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::discovery::sensitive::{is_email, is_uuid};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum StringFormat {
    DateTime,
    Date,
    Uuid,
    Email,
    Uri,
    Ipv4,
    Ipv6,
}

impl StringFormat {
    const ALL: [StringFormat; 7] = [
        StringFormat::DateTime,
        StringFormat::Date,
        StringFormat::Uuid,
        StringFormat::Email,
        StringFormat::Uri,
        StringFormat::Ipv4,
        StringFormat::Ipv6,
    ];

    /// The JSON Schema 2020-12 format name.
    pub(super) const fn name(self) -> &'static str {
        match self {
            StringFormat::DateTime => "date-time",
            StringFormat::Date => "date",
            StringFormat::Uuid => "uuid",
            StringFormat::Email => "email",
            StringFormat::Uri => "uri",
            StringFormat::Ipv4 => "ipv4",
            StringFormat::Ipv6 => "ipv6",
        }
    }
}

/// The formats a set of values all matched; starts as "any" before the first string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Formats(u8);

impl Formats {
    pub(super) const ANY: Formats = Formats(u8::MAX);

    /// Formats of one value (no allocation; a value matches at most one in practice).
    pub(super) fn of(s: &str) -> Formats {
        let b = s.as_bytes();
        let format = match b.first() {
            None => None,
            _ if b.len() > 320 => None,
            Some(c) if c.is_ascii_digit() && is_date(b) => Some(StringFormat::Date),
            Some(c) if c.is_ascii_digit() && is_date_time(b) => Some(StringFormat::DateTime),
            _ if is_uuid(s) => Some(StringFormat::Uuid),
            Some(b'h' | b'H') if is_http_uri(s) => Some(StringFormat::Uri),
            _ if s.contains('@') && is_email(s) => Some(StringFormat::Email),
            _ if s.parse::<Ipv4Addr>().is_ok() => Some(StringFormat::Ipv4),
            _ if s.contains(':') && s.parse::<Ipv6Addr>().is_ok() => Some(StringFormat::Ipv6),
            _ => None,
        };
        Formats(format.map_or(0, |f| 1 << f as u8))
    }

    pub(super) fn intersect(self, other: Formats) -> Formats {
        Formats(self.0 & other.0)
    }

    /// The single format every value matched, if any.
    pub(super) fn format(self) -> Option<StringFormat> {
        if self == Self::ANY {
            return None;
        }
        StringFormat::ALL
            .into_iter()
            .find(|f| self.0 & (1 << *f as u8) != 0)
    }
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
}

/// `YYYY-MM-DD` with a real day of that month.
fn is_date(b: &[u8]) -> bool {
    b.len() == 10 && date_ok(b)
}

fn date_ok(b: &[u8]) -> bool {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (num(&b[..4]), num(&b[5..7]), num(&b[8..10])) else {
        return false;
    };
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn is_date_time(b: &[u8]) -> bool {
    if b.len() < 20 || !date_ok(b) || !matches!(b[10], b'T' | b't') {
        return false;
    }
    let t = &b[11..];
    if t.len() < 9 || t[2] != b':' || t[5] != b':' {
        return false;
    }
    let (Some(h), Some(m), Some(s)) = (num(&t[..2]), num(&t[3..5]), num(&t[6..8])) else {
        return false;
    };
    if h > 23 || m > 59 || s > 60 {
        return false;
    }
    let mut rest = &t[8..];
    if let [b'.', frac @ ..] = rest {
        let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        rest = &frac[digits..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', oh @ .., b':', om0, om1] if oh.len() == 2 => {
            matches!((num(oh), num(&[*om0, *om1])), (Some(h), Some(m)) if h <= 23 && m <= 59)
        }
        _ => false,
    }
}

/// An absolute `http` or `https` URI with a host and no whitespace.
fn is_http_uri(s: &str) -> bool {
    let lower_prefix =
        |p: &str| s.len() > p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    let rest = if lower_prefix("https://") {
        &s[8..]
    } else if lower_prefix("http://") {
        &s[7..]
    } else {
        return false;
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    host_end > 0
        && !s
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
}
