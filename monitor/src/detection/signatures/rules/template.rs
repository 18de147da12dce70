//! Server-side template injection: template delimiters (`{{…}}`, `${…}`, `<%…%>`, `{%…%}`…)
//! around what probes and exploits write (`7*7`, `__class__`, `T(java.lang.Runtime)`,
//! `config`), and Log4Shell's `${jndi:…}` after resolving the lookups that hide it.

use super::{Finding, Value, text};
use crate::detection::{category::Category, signatures::classes::Classes};

/// Bytes of one delimited expression read; longer ones are cut.
const MAX_EXPRESSION: usize = 1024;

/// Nesting of `${…}` lookups resolved (Log4j resolves recursively).
const MAX_LOOKUP_DEPTH: u32 = 8;

/// Bytes the delimiter and lookup scans may read in one value. Each opener is read up to its
/// closer, so a value of thousands of unclosed `{{` would cost its length squared; past the
/// budget the rest of such a value is not read (ordinary values use a tiny part of it).
const SCAN_BUDGET: usize = 256 * 1024;

/// What is left of [`SCAN_BUDGET`].
struct Budget(usize);

impl Budget {
    /// Spends `n` bytes; whether there were that many left.
    fn spend(&mut self, n: usize) -> bool {
        match self.0.checked_sub(n) {
            Some(left) => {
                self.0 = left;
                true
            }
            None => {
                self.0 = 0;
                false
            }
        }
    }
}

/// Whether the value has what a template delimiter is made of.
pub fn may_match(v: &Value<'_>) -> bool {
    let c = v.classes;
    c.any(Classes::BRACE)
        || (c.any(Classes::LT) && c.any(Classes::PERCENT))
        || (c.any(Classes::PAREN) && c.any(Classes::AT | Classes::HASH))
}

pub fn check(v: &Value<'_>) -> Option<Finding> {
    let c = v.classes;
    let braces = c.any(Classes::BRACE);
    let erb = c.any(Classes::LT) && c.any(Classes::PERCENT);
    let razor = c.any(Classes::AT) && c.any(Classes::PAREN);
    let velocity = c.any(Classes::HASH) && c.any(Classes::PAREN);
    if !(braces || erb || razor || velocity) {
        return None;
    }
    let b = v.text.as_bytes();
    let mut budget = Budget(SCAN_BUDGET);
    if c.any(Classes::DOLLAR) && text::contains(b, b"${") && is_log4shell(b, &mut budget) {
        return Some(Finding::new(
            Category::TemplateInjection,
            "log4shell_jndi",
            0.95,
        ));
    }
    if text::find_ci(b, b"freemarker.template.utility", 0).is_some()
        || text::find_ci(b, b"{php}", 0).is_some()
    {
        return Some(Finding::new(
            Category::TemplateInjection,
            "template_object_access",
            0.9,
        ));
    }
    if velocity && text::find_ci(b, b"#set(", 0).is_some() && danger(b) {
        return Some(Finding::new(
            Category::TemplateInjection,
            "template_object_access",
            0.9,
        ));
    }
    let mut best: Option<Finding> = None;
    for (open, close) in DELIMITERS {
        let possible = match open {
            "<%" => erb,
            "@(" => razor,
            _ => braces,
        };
        if !possible {
            continue;
        }
        for at in memchr::memmem::find_iter(b, open.as_bytes()) {
            let start = at + open.len();
            let rest = b.get(start..).unwrap_or_default();
            let (inner, scanned) = enclosed(rest, close.as_bytes());
            // The danger words are looked for in what was enclosed: count that read too.
            if !budget.spend(scanned + inner.map_or(0, <[u8]>::len)) {
                return best;
            }
            let Some(inner) = inner else {
                continue;
            };
            if let Some(f) = expression(inner) {
                let stronger = best.as_ref().is_none_or(|b| f.confidence > b.confidence);
                if stronger {
                    let mut f = f;
                    f.detail = Some(format!("{open}…{close}"));
                    best = Some(f);
                }
            }
        }
        if best
            .as_ref()
            .is_some_and(|f| f.rule == "template_object_access")
        {
            break;
        }
    }
    best
}

/// Template delimiters of the engines tplmap knows (Jinja2, Twig, Tornado, Django, Mako,
/// ERB, JSP/EL, Freemarker, Velocity, Thymeleaf, Smarty, Struts OGNL, Razor).
const DELIMITERS: [(&str, &str); 10] = [
    ("{{", "}}"),
    ("{%", "%}"),
    ("<%", "%>"),
    ("${", "}"),
    ("#{", "}"),
    ("*{", "}"),
    ("%{", "}"),
    ("@{", "}"),
    ("{$", "}"),
    ("@(", ")"),
];

/// What lies between an opener (already read) and its closer; a single `}` or `)` closer is
/// matched against nested braces or parentheses.
/// And how many bytes were read to find out.
fn enclosed<'a>(b: &'a [u8], close: &[u8]) -> (Option<&'a [u8]>, usize) {
    let window = b.get(..b.len().min(MAX_EXPRESSION)).unwrap_or_default();
    if let &[single] = close {
        let open = if single == b')' { b'(' } else { b'{' };
        let mut depth = 0u32;
        for (i, &c) in window.iter().enumerate() {
            if c == open {
                depth += 1;
            } else if c == single {
                match depth.checked_sub(1) {
                    Some(d) => depth = d,
                    None => return (window.get(..i), i + 1),
                }
            }
        }
        return (None, window.len());
    }
    match memchr::memmem::find(window, close) {
        Some(end) => (window.get(..end), end + close.len()),
        None => (None, window.len()),
    }
}

/// Names and calls that reach the interpreter from a template: Python's dunder walk, Java's
/// runtime and reflection, Node's process, Twig's environment, OGNL, shell-outs.
const DANGER: [&str; 36] = [
    "__class__",
    "__mro__",
    "__subclasses__",
    "__globals__",
    "__builtins__",
    "__init__",
    "__import__",
    "__base__",
    "__dict__",
    "__getattribute__",
    "\\x5f\\x5f",
    "|attr(",
    "getruntime",
    "processbuilder",
    "java.lang",
    "getclass",
    "forname",
    "constructor",
    "child_process",
    "mainmodule",
    "popen",
    "os.system",
    "system(",
    "exec(",
    "eval(",
    "import os",
    "subprocess",
    "file.open",
    "?new(",
    "_self.env",
    "ognl",
    "memberaccess",
    "@java",
    "t(java",
    "shell_exec",
    "passthru",
];

fn danger(b: &[u8]) -> bool {
    DANGER
        .iter()
        .any(|d| text::find_ci(b, d.as_bytes(), 0).is_some())
}

/// Globals whose mere mention in an expression is a probe (`{{config}}` dumps Flask's
/// settings, `{{self}}` Jinja's context).
const GLOBALS: [&str; 12] = [
    "config",
    "self",
    "request",
    "lipsum",
    "cycler",
    "joiner",
    "namespace",
    "url_for",
    "get_flashed_messages",
    "_self",
    "settings",
    "smarty",
];

fn expression(inner: &[u8]) -> Option<Finding> {
    if danger(inner) {
        return Some(Finding::new(
            Category::TemplateInjection,
            "template_object_access",
            0.9,
        ));
    }
    let e = inner.trim_ascii();
    let e = e.strip_prefix(b"=").unwrap_or(e).trim_ascii();
    let e = e.strip_prefix(b"$").unwrap_or(e);
    let name_len = e.iter().take_while(|&&c| text::is_word_byte(c)).count();
    let name = e.get(..name_len).unwrap_or_default();
    let after = e.get(name_len).copied();
    if GLOBALS
        .iter()
        .any(|g| name.eq_ignore_ascii_case(g.as_bytes()))
        && after.is_none_or(|c| matches!(c, b'.' | b'[' | b'|' | b'(' | b' '))
    {
        return Some(Finding::new(
            Category::TemplateInjection,
            "template_object_access",
            0.8,
        ));
    }
    arithmetic(e).then(|| Finding::new(Category::TemplateInjection, "template_arithmetic", 0.8))
}

/// A product of number literals anywhere (`7*7`, `7*'7'`, `1337 * 1338`), or the whole
/// expression one operation on two numbers (`{{1+1}}`): what probes evaluate to see whether
/// the server renders templates.
fn arithmetic(e: &[u8]) -> bool {
    let e = e
        .strip_prefix(b"{")
        .and_then(|x| x.strip_suffix(b"}"))
        .unwrap_or(e);
    let number_before = |at: usize| {
        let head = e.get(..at).unwrap_or_default().trim_ascii_end();
        let head = head
            .strip_suffix(b"'")
            .or_else(|| head.strip_suffix(b"\""))
            .unwrap_or(head);
        head.last().is_some_and(u8::is_ascii_digit)
    };
    let number_after = |at: usize| {
        let tail = e.get(at + 1..).unwrap_or_default().trim_ascii_start();
        let tail = tail
            .strip_prefix(b"'")
            .or_else(|| tail.strip_prefix(b"\""))
            .unwrap_or(tail);
        tail.first().is_some_and(u8::is_ascii_digit)
    };
    if memchr::memchr_iter(b'*', e).any(|at| number_before(at) && number_after(at)) {
        return true;
    }
    let t = e.trim_ascii();
    let Some(op) = t
        .iter()
        .position(|c| matches!(c, b'+' | b'-' | b'/' | b'%'))
    else {
        return false;
    };
    let (l, r) = (
        t.get(..op).unwrap_or_default().trim_ascii(),
        t.get(op + 1..).unwrap_or_default().trim_ascii(),
    );
    let num = |s: &[u8]| !s.is_empty() && s.len() <= 10 && s.iter().all(u8::is_ascii_digit);
    num(l) && num(r)
}

/// Whether resolving Log4j's lookups in `b` yields a `${jndi:…}` lookup.
fn is_log4shell(b: &[u8], budget: &mut Budget) -> bool {
    let mut found = false;
    resolve(b, 0, &mut found, budget);
    found
}

/// `b` with its `${…}` lookups resolved as Log4j would for the obfuscations in use:
/// `${lower:x}`/`${upper:x}` → x, `${anything:-x}` → x (the default), `${date:'x'}` → x,
/// unknown lookups of the known prefixes → nothing. Sets `found` when a lookup is `jndi:`.
fn resolve(b: &[u8], depth: u32, found: &mut bool, budget: &mut Budget) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if *found {
            break;
        }
        if c == b'$'
            && b.get(i + 1) == Some(&b'{')
            && depth < MAX_LOOKUP_DEPTH
            && let Some(len) = lookup_len(b.get(i + 2..).unwrap_or_default(), budget)
        {
            let inner = b.get(i + 2..i + 2 + len).unwrap_or_default();
            let inner = resolve(inner, depth + 1, found, budget);
            if text::starts_with_ci(&inner, b"jndi:") {
                *found = true;
            }
            out.extend_from_slice(&lookup(&inner));
            i += 2 + len + 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Length of a lookup's body up to its matching `}` (nested `${` counted).
fn lookup_len(b: &[u8], budget: &mut Budget) -> Option<usize> {
    let mut depth = 0u32;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if i > MAX_EXPRESSION || !budget.spend(1) {
            return None;
        }
        match c {
            b'$' if b.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return Some(i),
            },
            _ => {}
        }
        i += 1;
    }
    None
}

/// Lookup prefixes Log4j knows; one without a default resolves to what the attacker cannot
/// count on, so to nothing here.
const PREFIXES: [&str; 16] = [
    "env",
    "sys",
    "main",
    "ctx",
    "map",
    "sd",
    "k8s",
    "docker",
    "java",
    "bundle",
    "log4j",
    "spring",
    "web",
    "jvmrunargs",
    "marker",
    "event",
];

fn lookup(inner: &[u8]) -> Vec<u8> {
    if let Some(at) = memchr::memmem::find(inner, b":-") {
        return inner.get(at + 2..).unwrap_or_default().to_vec();
    }
    let (prefix, rest) = match memchr::memchr(b':', inner) {
        Some(at) => (
            inner.get(..at).unwrap_or_default(),
            inner.get(at + 1..).unwrap_or_default(),
        ),
        None => (inner, &b""[..]),
    };
    if prefix.eq_ignore_ascii_case(b"lower") {
        return String::from_utf8_lossy(rest).to_lowercase().into_bytes();
    }
    if prefix.eq_ignore_ascii_case(b"upper") {
        return String::from_utf8_lossy(rest).to_uppercase().into_bytes();
    }
    if prefix.eq_ignore_ascii_case(b"date") {
        return rest.iter().copied().filter(|&c| c != b'\'').collect();
    }
    if PREFIXES
        .iter()
        .any(|p| prefix.eq_ignore_ascii_case(p.as_bytes()))
    {
        return Vec::new();
    }
    // Not a lookup Log4j resolves (a Spring placeholder, a shell variable): left as written.
    let mut kept = b"${".to_vec();
    kept.extend_from_slice(inner);
    kept.push(b'}');
    kept
}

#[cfg(test)]
mod tests {
    use super::super::testing::rule;
    use super::*;

    fn tpl(raw: &str) -> Option<&'static str> {
        rule(Category::TemplateInjection, "name", raw)
    }

    #[test]
    fn probes_and_exploits() {
        for (p, r) in [
            ("{{7*7}}", "template_arithmetic"),
            ("${7*7}", "template_arithmetic"),
            ("<%= 7*7 %>", "template_arithmetic"),
            ("#{7*7}", "template_arithmetic"),
            ("{{7*'7'}}", "template_arithmetic"),
            ("${{7*7}}", "template_arithmetic"),
            ("@(6*7)", "template_arithmetic"),
            ("{{config.items()}}", "template_object_access"),
            ("{{''.__class__.__mro__[1]}}", "template_object_access"),
            (
                "${T(java.lang.Runtime).getRuntime().exec('id')}",
                "template_object_access",
            ),
            ("{% import os %}", "template_object_access"),
            ("{$smarty.version}", "template_object_access"),
            ("${jndi:ldap://x/a}", "log4shell_jndi"),
            ("${${lower:j}ndi:ldap://x/a}", "log4shell_jndi"),
            (
                "${${::-j}${::-n}${::-d}${::-i}:rmi://x/a}",
                "log4shell_jndi",
            ),
            ("${j${k8s:k5:-ND}i${sd:k5:-:}ldap://x/a}", "log4shell_jndi"),
            (
                "${${env:X:-j}ndi${env:X:-:}${env:X:-l}dap://x}",
                "log4shell_jndi",
            ),
            ("${jnd${upper:ı}:ldap://x}", "log4shell_jndi"),
            ("${${date:'j'}${date:'n'}di:x}", "log4shell_jndi"),
        ] {
            assert_eq!(tpl(p), Some(r), "{p}");
        }
    }

    #[test]
    fn templates_people_write_pass() {
        for p in [
            "Hello {{name}}, your order {{order.id}} has shipped!",
            "{% if user %}Hello {{ user.name }}{% endif %}",
            "{{ price * quantity }}",
            "{{ a + b }}",
            "${price} * ${qty}",
            "region = \"${var.region}\"",
            "${DB_URL:jdbc:postgresql://localhost:5432/app}",
            "echo \"${{ secrets.DEPLOY_KEY }}\"",
            "{count, plural, one {# item} other {# items}}",
            "*{margin:0;padding:0}",
            "#{name}",
            "<%= @user.name %>",
            "{\"a\":1}",
            "7*7 = 49",
            "${env:HOME}",
        ] {
            assert_eq!(tpl(p), None, "{p}");
        }
    }

    #[test]
    fn hostile_lookups_are_bounded() {
        let deep = "${".repeat(5000) + &"}".repeat(5000);
        assert_eq!(tpl(&deep), None);
        let open = "${".repeat(3000);
        assert_eq!(tpl(&open), None);
    }
}
