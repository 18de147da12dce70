//! SQL injection: libinjection's tokenizer and fingerprints, behind a cheap check that the
//! value holds something SQL can be made of (a quote, a comment, a SQL keyword), since the
//! port costs microseconds a call.

use std::panic;

use super::{Finding, Panicked, Value, text};
use crate::detection::{category::Category, signatures::classes::Classes};

/// Whether [`check`] would hand the value to libinjection (or look for a stacked
/// statement): [`worth_checking`], which refuses most values on their byte kinds alone.
pub fn may_match(v: &Value<'_>) -> bool {
    worth_checking(v.text, v.classes)
}

pub fn check(v: &Value<'_>) -> Result<Option<Finding>, Panicked> {
    if !worth_checking(v.text, v.classes) {
        return Ok(None);
    }
    let bytes = v.text.as_bytes();
    // The port may index out of bounds on odd input (its README says so): a panic is caught
    // and counted, never taken down the pipeline.
    let (injection, fingerprint) = panic::catch_unwind(|| {
        let r = libinjectionrs::detect_sqli(bytes);
        let fp = r.fingerprint.as_ref().map(|f| f.as_str().to_owned());
        (r.is_injection(), fp)
    })
    .map_err(|_| Panicked)?;
    if !injection {
        // libinjection lets some stacked statements through (`1;SELECT CASE …` is `1;EEk`).
        let stacked = v.classes.any(Classes::SEMI) && stacked_statement(v.text);
        return Ok(stacked.then(|| Finding::new(Category::Sqli, "stacked_statement", 0.8)));
    }
    if !fingerprint.as_deref().is_some_and(has_literal)
        || is_whole_statement(v.text)
        || is_filter_expression(v.text)
    {
        return Ok(None);
    }
    let mut f = Finding::new(Category::Sqli, "libinjection_sqli", 0.9);
    f.detail = fingerprint.map(|fp| format!("fingerprint {fp}"));
    Ok(Some(f))
}

/// What separates the words of SQL.
const SEPARATORS: u32 = Classes::SPACE
    | Classes::NEWLINE
    | Classes::PAREN
    | Classes::SEMI
    | Classes::SLASH
    | Classes::STAR
    | Classes::EQ
    | Classes::LT
    | Classes::GT
    | Classes::BANG
    | Classes::PIPE
    | Classes::AMP
    | Classes::PLUS
    | Classes::OTHER;

/// Whether libinjection could call `text` SQL: it has a quote to break out of a string, a
/// comment, a keyword that only SQL uses (`union`, `sleep(`...), or a logical word next to a
/// comparison (`or 1=1`). English words alone (`select a plan`) still pass; a user agent's
/// parentheses and semicolons do not.
fn worth_checking(text: &str, c: Classes) -> bool {
    if c.any(Classes::QUOTES) {
        return true;
    }
    // One bare word (an id, a name, a UUID, an email) is no SQL whatever it spells.
    if !c.any(SEPARATORS) {
        return false;
    }
    let b = text.as_bytes();
    if c.any(Classes::EQ) && c.any(Classes::DIGIT) && has_tautology(b) {
        return true;
    }
    if !c.any(Classes::LETTER) {
        return false;
    }
    if (c.any(Classes::DASH) && text::contains(b, b"--"))
        || (c.any(Classes::STAR) && text::contains(b, b"/*"))
        || (c.any(Classes::AT) && text::contains(b, b"@@"))
    {
        return true;
    }
    // Without a quote to break out of a string, an injection lands in a number's place: it
    // starts with a number, a sign or a parenthesis (`1 AND …`, `-1 UNION …`, `(SELECT …)`),
    // or is an expression of its own that starts with SQL (`SLEEP(5)`, `UNION SELECT …`).
    // Text that starts with an ordinary word (`Mozilla/5.0 (…) like Gecko`) is not read on.
    let numeric_place = matches!(b.trim_ascii_start().first(), Some(c) if c.is_ascii_digit() || matches!(c, b'(' | b'-' | b')' | b'+'));
    if !numeric_place {
        let Some((_, first)) = text::words(b).next() else {
            return false;
        };
        let keyword_first = text::Lower::<20>::of(first)
            .is_some_and(|l| !matches!(keyword(l.as_bytes()), Keyword::None));
        if !keyword_first {
            return false;
        }
    }
    let comparison = c.any(Classes::EQ | Classes::LT | Classes::GT | Classes::BANG);
    text::words(b).any(|(at, word)| {
        let Some(lower) = text::Lower::<20>::of(word) else {
            return false;
        };
        match keyword(lower.as_bytes()) {
            Keyword::Strong => true,
            Keyword::Function => followed_by_paren(b, at + word.len()),
            Keyword::Logical => comparison,
            Keyword::None => false,
        }
    })
}

/// `4321=4321`: two numbers compared, sqlmap's boolean probe (also inside a function call,
/// `MAKE_SET(4321=4321,1)`, where no keyword shows).
fn has_tautology(b: &[u8]) -> bool {
    memchr::memchr_iter(b'=', b).any(|at| {
        let before = b.get(..at).unwrap_or_default().trim_ascii_end();
        let after = b.get(at + 1..).unwrap_or_default().trim_ascii_start();
        before.last().is_some_and(u8::is_ascii_digit)
            && after.first().is_some_and(u8::is_ascii_digit)
    })
}

/// A second statement stacked after the value (`1;SELECT …`, `x';DROP …`).
fn stacked_statement(text: &str) -> bool {
    let b = text.as_bytes();
    let Some(semi) = memchr::memchr(b';', b) else {
        return false;
    };
    // The value before it is one token, as an injected one is.
    let before = b.get(..semi).unwrap_or_default();
    if before.iter().any(u8::is_ascii_whitespace) {
        return false;
    }
    let after = b.get(semi + 1..).unwrap_or_default().trim_ascii_start();
    let Some((0, word)) = text::words(after).next() else {
        return false;
    };
    let next = after.get(word.len()).copied();
    [
        &b"select"[..],
        b"insert",
        b"update",
        b"delete",
        b"drop",
        b"exec",
        b"execute",
        b"declare",
        b"waitfor",
        b"shutdown",
        b"truncate",
        b"create",
        b"alter",
    ]
    .iter()
    .any(|k| word.eq_ignore_ascii_case(k))
        && next.is_some_and(|c| c.is_ascii_whitespace() || matches!(c, b'(' | b'*' | b'@'))
}

enum Keyword {
    /// Only SQL says it.
    Strong,
    /// A SQL function when a `(` follows.
    Function,
    /// An English word too: SQL only next to a comparison.
    Logical,
    None,
}

fn keyword(word: &[u8]) -> Keyword {
    match word {
        b"union"
        | b"select"
        | b"insert"
        | b"update"
        | b"delete"
        | b"drop"
        | b"truncate"
        | b"waitfor"
        | b"declare"
        | b"exec"
        | b"execute"
        | b"xp_cmdshell"
        | b"shutdown"
        | b"information_schema"
        | b"outfile"
        | b"dumpfile"
        | b"load_file"
        | b"procedure"
        | b"pg_sleep"
        | b"extractvalue"
        | b"updatexml"
        | b"benchmark"
        | b"dbms_pipe"
        | b"utl_inaddr"
        | b"sysobjects"
        | b"sysdatabases" => Keyword::Strong,
        b"sleep" | b"char" | b"chr" | b"concat" | b"group_concat" | b"ascii" | b"substring"
        | b"substr" | b"mid" | b"version" | b"database" | b"user" | b"cast" | b"convert"
        | b"if" | b"iif" | b"elt" | b"floor" | b"rand" | b"md5" | b"hex" | b"unhex" | b"ord"
        | b"count" | b"length" | b"len" | b"db_name" | b"schema" | b"current_user" => {
            Keyword::Function
        }
        b"and" | b"or" | b"xor" | b"not" | b"having" | b"like" | b"rlike" | b"regexp"
        | b"between" | b"is" | b"in" | b"div" | b"mod" | b"order" | b"group" | b"where"
        | b"limit" | b"case" | b"when" | b"null" | b"true" | b"false" => Keyword::Logical,
        _ => Keyword::None,
    }
}

fn followed_by_paren(b: &[u8], at: usize) -> bool {
    b.get(at..)
        .and_then(|rest| rest.iter().find(|c| !c.is_ascii_whitespace()))
        == Some(&b'(')
}

/// Whether a fingerprint holds what an injection is built from: a string or number literal
/// (the tautology, the delay), a variable, a comment, `UNION`, a statement or a `;`. Code
/// that only combines names (`if (a && b || !c)`: `f(n&n`) is not one.
fn has_literal(fingerprint: &str) -> bool {
    fingerprint.bytes().any(|t| {
        matches!(
            t,
            b's' | b'1' | b'v' | b'c' | b'U' | b'E' | b'T' | b'k' | b';' | b'X'
        )
    })
}

/// A filter expression over field names (`(status = 'open' OR status = 'pending') AND
/// priority > 2`, OData, SCIM or JQL filters) is an API's input by design, like a whole
/// statement: it starts with a name and a comparison, its quotes balance, and it holds no
/// comment, stacked statement or SQL-only keyword. Injections start by breaking out of a
/// value: with a quote, a number or a parenthesis after one.
fn is_filter_expression(text: &str) -> bool {
    let b = text.trim().trim_start_matches('(').trim_start().as_bytes();
    let name_len = b
        .iter()
        .take_while(|&&c| text::is_word_byte(c) || c == b'.')
        .count();
    if name_len == 0 || b.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let after = b.get(name_len..).unwrap_or_default().trim_ascii_start();
    let comparison = matches!(after.first(), Some(b'=' | b'<' | b'>'))
        || after.starts_with(b"!=")
        || text::words(after).next().is_some_and(|(at, w)| {
            at == 0
                && [
                    &b"like"[..],
                    b"in",
                    b"is",
                    b"eq",
                    b"ne",
                    b"gt",
                    b"lt",
                    b"ge",
                    b"le",
                    b"co",
                    b"sw",
                    b"between",
                ]
                .iter()
                .any(|k| w.eq_ignore_ascii_case(k))
        });
    let bytes = text.as_bytes();
    let count = |q: u8| bytes.iter().filter(|&&c| c == q).count();
    comparison
        && count(b'\'') % 2 == 0
        && count(b'"') % 2 == 0
        && memchr::memchr3(b';', b'#', b'`', bytes).is_none()
        && memchr::memmem::find(bytes, b"--").is_none()
        && memchr::memmem::find(bytes, b"/*").is_none()
        && !text::words(bytes).any(|(_, w)| {
            text::Lower::<20>::of(w)
                .is_some_and(|l| matches!(keyword(l.as_bytes()), Keyword::Strong))
                || w.eq_ignore_ascii_case(b"sleep")
        })
}

/// A whole SQL statement sent as a value (a query editor's, a BI tool's) is the API's input
/// by design, not an injection: injections break out of a context, so they begin with a
/// value, a quote or a parenthesis. Statements that carry comments or stack a second one are
/// not excused.
fn is_whole_statement(text: &str) -> bool {
    let t = text.trim_start().as_bytes();
    let first = text::words(t).next();
    let starts = matches!(first, Some((0, w)) if [&b"select"[..], b"with", b"insert", b"update", b"delete", b"explain", b"show"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k)));
    if !starts {
        return false;
    }
    let trimmed = text.trim_end().trim_end_matches(';').as_bytes();
    memchr::memchr(b';', trimmed).is_none()
        && memchr::memmem::find(trimmed, b"--").is_none()
        && memchr::memmem::find(trimmed, b"/*").is_none()
        && memchr::memchr(b'#', trimmed).is_none()
}

#[cfg(test)]
mod tests {
    use super::super::testing::rule;
    use super::*;

    fn sqli(raw: &str) -> Option<&'static str> {
        rule(Category::Sqli, "id", raw)
    }

    #[test]
    fn sqlmap_payloads() {
        for p in [
            "1 AND 5786=5786",
            "1' OR '1'='1",
            "1 AND SLEEP(5)",
            "-1 UNION ALL SELECT NULL,NULL--",
            "1;DROP TABLE users",
            "1%27%20OR%201%3D1--",
            "admin'--",
        ] {
            assert_eq!(sqli(p), Some("libinjection_sqli"), "{p}");
        }
    }

    #[test]
    fn probes_libinjection_lets_through() {
        assert_eq!(sqli("MAKE_SET(4321=4321,1)"), Some("libinjection_sqli"));
        assert_eq!(sqli("(4321=4321)*8765"), Some("libinjection_sqli"));
        assert_eq!(
            sqli("1;SELECT CASE WHEN 1=1 THEN 1 END"),
            Some("stacked_statement")
        );
        assert_eq!(
            sqli("1';SELECT CASE WHEN 1=1 THEN 1 ELSE NULL END FROM DUAL-- -"),
            Some("stacked_statement")
        );
        assert_eq!(sqli("I can't; select one"), None);
        assert_eq!(sqli("name;email;select"), None);
    }

    #[test]
    fn english_and_names_pass() {
        for p in [
            "O'Brien",
            "select a plan",
            "drop shipping",
            "union station",
            "order by price",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)",
            "red;green;blue",
            "a+b",
        ] {
            assert_eq!(sqli(p), None, "{p}");
        }
    }

    #[test]
    fn prefilter_skips_what_cannot_be_sql() {
        let c = |t: &str| worth_checking(t, Classes::of(t));
        assert!(!c("hello"));
        assert!(!c("12345"));
        assert!(!c("Mozilla/5.0 (X11; Linux x86_64) like Gecko"));
        assert!(!c("sleep tracker"));
        assert!(c("it's"));
        assert!(c("1 or 1=1"));
        assert!(c("sleep (5)"));
        assert!(c("1 union all"));
        assert!(c("admin --"));
        assert!(!c("x--"));
        assert!(!c("550e8400-e29b-41d4-a716-446655440000"));
    }

    #[test]
    fn filter_expressions_are_input_not_injection() {
        assert_eq!(
            sqli("(status = 'open' OR status = 'pending') AND priority > 2"),
            None
        );
        assert!(is_filter_expression("name eq \"x\" and age gt 3"));
        assert!(!is_filter_expression("x' OR 1=1#"));
        assert!(!is_filter_expression("a = 'x' OR 1=1 UNION SELECT 1"));
        assert!(!is_filter_expression("a = 'x' AND SLEEP(5)"));
        assert!(!is_filter_expression("a = 'x' OR 'b'='b"));
        assert!(!is_filter_expression("1 OR 1=1"));
    }

    #[test]
    fn code_without_literals_is_not_injection() {
        assert_eq!(sqli("if (a && b || !c) { return x | y; }"), None);
        assert!(!has_literal("f(n&n"));
        assert!(has_literal("s&sos"));
    }

    #[test]
    fn whole_statements_are_input_not_injection() {
        assert_eq!(
            sqli("SELECT name, email FROM users WHERE active = true ORDER BY name;"),
            None
        );
        assert!(is_whole_statement("select * from t"));
        assert!(!is_whole_statement("select 1; drop table t"));
        assert!(!is_whole_statement("select 1 -- x"));
        assert!(!is_whole_statement("1 union select 1"));
    }
}
