//! The values a request gives its endpoint's parameters: path segments where the template has
//! `{name}`, and query parameters, split once per transaction for every detector.

/// Parameters kept per request; more are ignored (hostile queries can have thousands).
pub const MAX_PARAMS: usize = 8;

/// Kept inline (no allocation: this runs for every transaction).
#[derive(Debug)]
pub struct Params<'a> {
    /// (position of the segment in the template, raw value).
    path: [(u8, &'a str); MAX_PARAMS],
    path_len: usize,
    /// (raw name, raw value), in order.
    query: [(&'a str, &'a str); MAX_PARAMS],
    query_len: usize,
}

impl<'a> Params<'a> {
    pub fn of(path: &'a str, template: Option<&str>, query: Option<&'a str>) -> Params<'a> {
        let mut p = Params {
            path: [(0, ""); MAX_PARAMS],
            path_len: 0,
            query: [("", ""); MAX_PARAMS],
            query_len: 0,
        };
        // Byte searches, not `str::split`: this runs for every transaction.
        if let Some(template) = template.filter(|t| t.bytes().any(|b| b == b'{')) {
            let mut segments = Pieces::new(path, b'/');
            for (i, t) in Pieces::new(template, b'/').enumerate() {
                let Some(seg) = segments.next() else { break };
                if t.starts_with('{') && p.path_len < MAX_PARAMS {
                    p.path[p.path_len] = (i.min(255) as u8, seg);
                    p.path_len += 1;
                }
            }
        }
        if let Some(query) = query {
            for pair in Pieces::new(query, b'&')
                .filter(|s| !s.is_empty())
                .take(MAX_PARAMS)
            {
                let (name, value) = match pair.bytes().position(|b| b == b'=') {
                    Some(i) => (&pair[..i], &pair[i + 1..]),
                    None => (pair, ""),
                };
                p.query[p.query_len] = (name, value);
                p.query_len += 1;
            }
        }
        p
    }

    pub fn path(&self) -> &[(u8, &'a str)] {
        &self.path[..self.path_len]
    }

    pub fn query(&self) -> &[(&'a str, &'a str)] {
        &self.query[..self.query_len]
    }

    /// A query parameter's raw value, by case-insensitive name.
    pub fn query_value(&self, name: &str) -> Option<&'a str> {
        self.query()
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// A set of parameter names matched case-insensitively, kept by length so a lookup compares
/// only names of the right length (this runs for every query parameter of every request).
#[derive(Debug, Clone, Default)]
pub struct NameSet {
    by_len: Vec<Vec<Box<[u8]>>>,
}

/// Longer names are never in a set.
const MAX_NAME: usize = 64;

impl NameSet {
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> NameSet {
        let mut by_len: Vec<Vec<Box<[u8]>>> = vec![Vec::new(); MAX_NAME + 1];
        for n in names {
            let n = n.as_ref().as_bytes();
            if let Some(slot) = by_len.get_mut(n.len()) {
                slot.push(n.to_ascii_lowercase().into_boxed_slice());
            }
        }
        NameSet { by_len }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.by_len
            .get(name.len())
            .is_some_and(|same| same.iter().any(|n| n.eq_ignore_ascii_case(name.as_bytes())))
    }
}

/// `text` split at an ASCII byte (so every piece is on a char boundary).
struct Pieces<'a> {
    rest: Option<&'a str>,
    at: u8,
}

impl<'a> Pieces<'a> {
    fn new(text: &'a str, at: u8) -> Self {
        Self {
            rest: Some(text),
            at,
        }
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        // A plain loop: pieces are a few bytes, where a vector search costs more than it saves.
        match rest.bytes().position(|b| b == self.at) {
            Some(i) => {
                self.rest = Some(&rest[i + 1..]);
                Some(&rest[..i])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// The value as an integer, when it is one (ids walked in order).
pub fn as_int(value: &str) -> Option<i64> {
    if value.is_empty() || value.len() > 18 {
        return None;
    }
    // At most 18 digits: no overflow. One loop, where checking then `parse` read it twice.
    value.bytes().try_fold(0i64, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_values_line_up_with_the_template() {
        let p = Params::of(
            "/v1/users/42/orders/abc",
            Some("/v1/users/{userId}/orders/{orderId}"),
            Some("page=2&q=x&&flag"),
        );
        assert_eq!(p.path(), [(3, "42"), (5, "abc")]);
        assert_eq!(p.query(), [("page", "2"), ("q", "x"), ("flag", "")]);
        assert_eq!(p.query_value("PAGE"), Some("2"));
        assert!(Params::of("/a/b", Some("/a/b"), None).path().is_empty());
        assert!(Params::of("/a/b", None, None).path().is_empty());
    }

    #[test]
    fn hostile_queries_are_capped() {
        let q = "a=1&".repeat(10_000);
        assert_eq!(Params::of("/", None, Some(&q)).query().len(), MAX_PARAMS);
        let deep = "/{a}".repeat(100);
        let path = "/x".repeat(100);
        assert_eq!(
            Params::of(&path, Some(&deep), None).path().len(),
            MAX_PARAMS
        );
    }

    #[test]
    fn pieces_split_as_str_split_does() {
        for text in ["", "/", "/a/b", "a//b/", "é/ü/", "&a=1&&b"] {
            for at in [b'/', b'&'] {
                let ours: Vec<&str> = Pieces::new(text, at).collect();
                let std: Vec<&str> = text.split(char::from(at)).collect();
                assert_eq!(ours, std, "{text:?}");
            }
        }
    }

    #[test]
    fn name_sets_ignore_case_and_length() {
        let set = NameSet::new(["page", "Per_Page", ""]);
        assert!(set.contains("PAGE") && set.contains("per_page") && set.contains(""));
        assert!(!set.contains("pages") && !set.contains("pag"));
        assert!(!set.contains(&"x".repeat(1000)));
    }

    #[test]
    fn ints() {
        assert_eq!(as_int("0042"), Some(42));
        assert_eq!(as_int("-1"), None);
        assert_eq!(as_int("99999999999999999999"), None);
        assert_eq!(as_int(""), None);
        assert_eq!(as_int("999999999999999999"), Some(999_999_999_999_999_999));
        assert_eq!(as_int("+5"), None);
        assert_eq!(as_int("12a"), None);
        assert_eq!(
            as_int("١٢"),
            None,
            "digits of other scripts are not ids walked"
        );
    }
}
