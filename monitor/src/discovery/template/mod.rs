//! Endpoint path templates learned from traffic (`/users/{userId}/orders`): `segment` says what
//! a segment looks like, `trie` learns which positions are parameters, this module names them.

pub mod segment;
pub mod trie;

pub use segment::{KindSet, SegmentKind, classify};
pub use trie::{Learned, Part, PathTemplater, TemplaterLimits};

use foldhash::{HashMap, HashMapExt};

/// Templates named so far, by their parts: naming builds several strings, and a service's
/// calls go to few templates, so each is named once. Naming is a pure function of the parts,
/// so nothing here goes stale when the tree generalizes; the bound only caps memory.
#[derive(Debug, Default)]
pub struct TemplateNames {
    named: HashMap<Vec<Part>, Template>,
}

/// Templates remembered per service before the memo starts over.
const MAX_NAMED: usize = 4_096;

impl TemplateNames {
    pub fn new() -> Self {
        Self {
            named: HashMap::new(),
        }
    }

    /// [`Template::name`] of `parts`.
    pub fn name(&mut self, parts: Vec<Part>) -> &Template {
        if !self.named.contains_key(&parts) && self.named.len() >= MAX_NAMED {
            self.named.clear();
        }
        self.named
            .entry(parts)
            .or_insert_with_key(|p| Template::name(p))
    }
}

/// A template with its parameters named: `/users/{userId}/orders/{orderId}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Template {
    pub text: String,
    /// (name, kinds) of each parameter, in path order.
    pub params: Vec<(String, KindSet)>,
}

impl Template {
    /// Names each parameter after the literal before it (`users` → `userId`), or after its
    /// kind (`date`, `email`), unique within the template.
    pub fn name(parts: &[Part]) -> Template {
        let mut text = String::new();
        let mut params: Vec<(String, KindSet)> = Vec::new();
        let mut previous: Option<&str> = None;
        for part in parts {
            text.push('/');
            match part {
                Part::Literal(word) => {
                    text.push_str(word);
                    previous = Some(word);
                }
                Part::Param(kinds) => {
                    let base = match (kinds.single(), previous) {
                        (Some(SegmentKind::Date), _) => "date".to_owned(),
                        (Some(SegmentKind::Email), _) => "email".to_owned(),
                        (_, Some(word)) => id_name(word),
                        (_, None) => "param".to_owned(),
                    };
                    let mut name = base.clone();
                    let mut n = 2;
                    while params.iter().any(|(p, _)| *p == name) {
                        name = format!("{base}{n}");
                        n += 1;
                    }
                    text.push('{');
                    text.push_str(&name);
                    text.push('}');
                    params.push((name, *kinds));
                    previous = None;
                }
            }
        }
        if text.is_empty() {
            text.push('/');
        }
        Template { text, params }
    }
}

/// `users` → `userId`, `line-items` → `lineItemId`, `categories` → `categoryId`.
fn id_name(word: &str) -> String {
    let mut camel = String::new();
    let mut upper = false;
    for c in word.chars() {
        if c.is_ascii_alphanumeric() {
            if upper && !camel.is_empty() {
                camel.push(c.to_ascii_uppercase());
            } else {
                camel.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    if camel.is_empty() || !camel.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return "param".to_owned();
    }
    let singular = if let Some(stem) = camel.strip_suffix("ies") {
        format!("{stem}y")
    } else if camel.ends_with("sses") || camel.ends_with("xes") || camel.ends_with("ches") {
        camel[..camel.len() - 2].to_owned()
    } else if camel.ends_with('s') && !camel.ends_with("ss") && !camel.ends_with("us") {
        camel[..camel.len() - 1].to_owned()
    } else {
        camel
    };
    let mut name = singular;
    name.push_str("Id");
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(path_parts: &[&str]) -> String {
        let parts: Vec<Part> = path_parts
            .iter()
            .map(|p| match classify(p) {
                Some(kind) => {
                    let mut k = KindSet::default();
                    k.insert(kind);
                    Part::Param(k)
                }
                None => Part::Literal((*p).to_owned()),
            })
            .collect();
        Template::name(&parts).text
    }

    #[test]
    fn parameters_are_named_after_their_collection() {
        assert_eq!(
            named(&["users", "42", "orders", "7"]),
            "/users/{userId}/orders/{orderId}"
        );
        assert_eq!(named(&["categories", "3"]), "/categories/{categoryId}");
        assert_eq!(named(&["line-items", "3"]), "/line-items/{lineItemId}");
        assert_eq!(named(&["addresses", "3"]), "/addresses/{addressId}");
        assert_eq!(named(&["reports", "2024-01-02"]), "/reports/{date}");
        assert_eq!(named(&["1", "2"]), "/{param}/{param2}");
        assert_eq!(named(&["a", "1", "2"]), "/a/{aId}/{param}");
        assert_eq!(named(&[]), "/");
    }
}
