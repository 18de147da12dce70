//! The six injection rules, each a tokenizing check of one decoded value. [`check`] runs the
//! ones the value's byte kinds allow, so a benign value costs a few comparisons.

mod command;
mod sqli;
pub mod ssrf;
mod template;
mod text;
mod traversal;
mod xss;

use super::{classes::Classes, decode::Steps};
use crate::detection::{category::Category, hit::Part};

/// What a value is to the request, as the rules need to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The request path, whole: only path traversal reads it.
    WholePath,
    /// One segment of the path.
    Segment,
    /// A parameter, field, header or cookie value.
    Value,
    /// A parameter name or JSON key.
    Key,
    /// A body read as one text.
    Text,
}

/// One decoded value, with what the rules may want to know about it.
#[derive(Debug, Clone, Copy)]
pub struct Value<'a> {
    /// After decoding.
    pub text: &'a str,
    /// As sent (before decoding), for rules that weigh how it was encoded.
    pub raw: &'a str,
    pub classes: Classes,
    pub steps: Steps,
    pub part: Part,
    /// The name the value goes by: a parameter, header or cookie name, the last key of a JSON
    /// pointer.
    pub name: Option<&'a str>,
    pub role: Role,
}

/// A rule that matched one value.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub category: Category,
    pub rule: &'static str,
    pub confidence: f64,
    pub detail: Option<String>,
}

impl Finding {
    fn new(category: Category, rule: &'static str, confidence: f64) -> Finding {
        Finding {
            category,
            rule,
            confidence,
            detail: None,
        }
    }
}

/// A third-party detector panicked (caught, counted as an internal error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panicked;

/// The categories of the rules, in the order they run.
pub const CATEGORIES: [Category; 6] = [
    Category::Sqli,
    Category::Xss,
    Category::PathTraversal,
    Category::CommandInjection,
    Category::Ssrf,
    Category::TemplateInjection,
];

/// Of the rules in `wanted`, those that could match `v` (a bit per [`CATEGORIES`] entry),
/// from tests of its byte kinds and first bytes that each rule would make first anyway.
/// Every value is put through this; a rule runs only when its bit is set.
#[inline(always)]
pub fn candidates(v: &Value<'_>, wanted: u8) -> u8 {
    let may = |category: Category, test: &dyn Fn() -> bool| {
        let bit = bit(category);
        if wanted & bit != 0 && test() { bit } else { 0 }
    };
    let ssrf = may(Category::Ssrf, &|| ssrf::may_match(v));
    // Letters, digits and dashes: only a bare address (`2130706433`, `localhost`) can match,
    // and only the SSRF rule reads it; most values end here.
    if v.classes.only(Classes::PLAIN) {
        return ssrf;
    }
    ssrf | may(Category::Sqli, &|| sqli::may_match(v))
        | may(Category::Xss, &|| xss::may_match(v))
        | may(Category::PathTraversal, &|| traversal::may_match(v))
        | may(Category::CommandInjection, &|| command::may_match(v))
        | may(Category::TemplateInjection, &|| template::may_match(v))
}

/// The bit of each category in [`CATEGORIES`] order.
const SQLI: u8 = 0;
const XSS: u8 = 1;
const TRAVERSAL: u8 = 2;
const COMMAND: u8 = 3;
const SSRF: u8 = 4;
const TEMPLATE: u8 = 5;

/// The bit of `category` in a set of categories.
pub const fn bit(category: Category) -> u8 {
    1 << match category {
        Category::Sqli => SQLI,
        Category::Xss => XSS,
        Category::PathTraversal => TRAVERSAL,
        Category::CommandInjection => COMMAND,
        Category::Ssrf => SSRF,
        _ => TEMPLATE,
    }
}

/// Runs the rules in `todo` (from [`candidates`]) whose category is not in `done` on `v`,
/// pushing what matched to `out` and setting its bit in `done`; returns the detectors that
/// panicked.
pub fn check(v: &Value<'_>, todo: u8, done: &mut u8, out: &mut Vec<Finding>) -> u32 {
    let mut errors = 0;
    let mut left = todo & !*done;
    while left != 0 {
        // Lowest bit first: the order of CATEGORIES.
        let bit = left & left.wrapping_neg();
        left &= !bit;
        let Some(&category) = CATEGORIES.get(bit.trailing_zeros() as usize) else {
            break;
        };
        let found = match category {
            Category::Sqli => sqli::check(v),
            Category::Xss => xss::check(v),
            Category::PathTraversal => Ok(traversal::check(v)),
            Category::CommandInjection => Ok(command::check(v)),
            Category::Ssrf => Ok(ssrf::check(v)),
            _ => Ok(template::check(v)),
        };
        match found {
            Ok(Some(finding)) => {
                *done |= bit;
                out.push(finding);
            }
            Ok(None) => {}
            Err(Panicked) => errors += 1,
        }
    }
    errors
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builds a [`Value`] the way the scanner would, for the rules' unit tests.

    use super::*;
    use crate::detection::signatures::decode;

    /// Decodes `raw` (a query value named `name`) and runs one category's rule on it.
    pub fn run(category: Category, part: Part, name: Option<&str>, raw: &str) -> Option<Finding> {
        run_as(category, part, name, raw, Role::Value)
    }

    pub fn run_as(
        category: Category,
        part: Part,
        name: Option<&str>,
        raw: &str,
        role: Role,
    ) -> Option<Finding> {
        let plus = matches!(part, Part::Query | Part::Form);
        let d = decode::decode(raw, plus);
        let v = Value {
            text: &d.text,
            raw,
            classes: Classes::of(&d.text),
            steps: d.steps,
            part,
            name,
            role,
        };
        let mut done = !bit(category);
        let mut out = Vec::new();
        assert_eq!(check(&v, candidates(&v, !done), &mut done, &mut out), 0);
        out.pop()
    }

    /// The rule name that matched a query value, if any.
    pub fn rule(category: Category, name: &str, raw: &str) -> Option<&'static str> {
        run(category, Part::Query, Some(name), raw).map(|f| f.rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_follow_the_order_of_categories() {
        for (i, c) in CATEGORIES.into_iter().enumerate() {
            assert_eq!(bit(c), 1 << i, "{c:?}");
        }
    }
}
