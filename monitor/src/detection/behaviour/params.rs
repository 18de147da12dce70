//! The values a request gives its endpoint's parameters: path segments where the template has
//! `{name}`, and query parameters, split once per transaction for every detector.

/// Parameters kept per request; more are ignored (hostile queries can have thousands).
pub const MAX_PARAMS: usize = 16;

#[derive(Debug, Default)]
pub struct Params<'a> {
    /// (position of the segment in the template, raw value).
    pub path: Vec<(u8, &'a str)>,
    /// (raw name, raw value), in order.
    pub query: Vec<(&'a str, &'a str)>,
}

impl<'a> Params<'a> {
    pub fn of(path: &'a str, template: Option<&str>, query: Option<&'a str>) -> Params<'a> {
        let mut p = Params::default();
        if let Some(template) = template.filter(|t| t.contains('{')) {
            let mut segments = path.split('/');
            for (i, t) in template.split('/').enumerate() {
                let Some(seg) = segments.next() else { break };
                if t.starts_with('{') && p.path.len() < MAX_PARAMS {
                    p.path.push((i.min(255) as u8, seg));
                }
            }
        }
        if let Some(query) = query {
            for pair in query.split('&').filter(|s| !s.is_empty()).take(MAX_PARAMS) {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                p.query.push((name, value));
            }
        }
        p
    }

    /// A query parameter's raw value, by case-insensitive name.
    pub fn query_value(&self, name: &str) -> Option<&'a str> {
        self.query
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// The value as an integer, when it is one (ids walked in order).
pub fn as_int(value: &str) -> Option<i64> {
    if value.is_empty() || value.len() > 18 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
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
        assert_eq!(p.path, vec![(3, "42"), (5, "abc")]);
        assert_eq!(p.query, vec![("page", "2"), ("q", "x"), ("flag", "")]);
        assert_eq!(p.query_value("PAGE"), Some("2"));
        assert!(Params::of("/a/b", Some("/a/b"), None).path.is_empty());
        assert!(Params::of("/a/b", None, None).path.is_empty());
    }

    #[test]
    fn hostile_queries_are_capped() {
        let q = "a=1&".repeat(10_000);
        assert_eq!(Params::of("/", None, Some(&q)).query.len(), MAX_PARAMS);
    }

    #[test]
    fn ints() {
        assert_eq!(as_int("0042"), Some(42));
        assert_eq!(as_int("-1"), None);
        assert_eq!(as_int("99999999999999999999"), None);
        assert_eq!(as_int(""), None);
    }
}
