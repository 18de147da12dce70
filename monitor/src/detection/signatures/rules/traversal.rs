//! Path traversal: `..` segments that climb above where a path starts, or reach a file worth
//! stealing, after folding `\`, look-alike slashes and dots, `..;` and `....`; absolute paths
//! of such files given as a value; `file:` and PHP-style stream wrappers.

use super::{Finding, Role, Value, text};
use crate::detection::{category::Category, signatures::classes::Classes};

/// Whether [`check`] would read on: its [`Reasons`] to look.
pub fn may_match(v: &Value<'_>) -> bool {
    let r = Reasons::of(v);
    r.dots || r.wrapper || r.path_value || r.lookalike
}

/// Everything [`check`] does past these allocates, so first the cheap reasons to look.
struct Reasons {
    /// A `..`.
    dots: bool,
    /// A stream wrapper's scheme.
    wrapper: bool,
    /// A value shaped like a path.
    path_value: bool,
    /// Look-alike dots and slashes (not ASCII, so plain ASCII values skip that test).
    lookalike: bool,
}

impl Reasons {
    fn of(v: &Value<'_>) -> Reasons {
        let c = v.classes;
        let b = v.text.as_bytes();
        Reasons {
            dots: c.any(Classes::DOT) && text::contains(b, b".."),
            wrapper: c.any(Classes::COLON) && v.role != Role::WholePath && has_wrapper_scheme(b),
            path_value: v.role == Role::Value && !c.has_space() && looks_like_path(b),
            lookalike: c.any(Classes::NON_ASCII) && v.text.chars().any(is_lookalike),
        }
    }
}

pub fn check(v: &Value<'_>) -> Option<Finding> {
    let c = v.classes;
    let Reasons {
        dots,
        wrapper,
        path_value,
        lookalike,
    } = Reasons::of(v);
    if !(dots || wrapper || path_value || lookalike) {
        return None;
    }
    let norm = normalise(v.text);
    if wrapper && let Some(scheme) = stream_wrapper(&norm) {
        let mut f = Finding::new(Category::PathTraversal, "file_scheme", 0.85);
        f.detail = Some(format!("{scheme}:"));
        return Some(f);
    }
    if v.role != Role::WholePath && c.has_space() {
        // Prose mentions relative links (`../docs/README.md`): only a climb to a file worth
        // stealing counts there.
        return norm
            .split_ascii_whitespace()
            .map(walk)
            .any(|w| w.sensitive)
            .then(|| Finding::new(Category::PathTraversal, "dotdot_sensitive_file", 0.9));
    }
    let w = walk(&norm);
    if w.sensitive {
        return Some(Finding::new(
            Category::PathTraversal,
            "dotdot_sensitive_file",
            0.95,
        ));
    }
    if w.climbs > 0 {
        // Browsers and HTTP clients resolve `..` in a path before sending it, so a request
        // path that still climbs above the root was written by hand or by a tool. In a value,
        // a relative path one or two levels up is common (`../assets/logo.png`); deep climbs
        // and encoded dots are not.
        let evasive = v.steps.evasive()
            || text::find_ci(v.raw.as_bytes(), b"%2e", 0).is_some()
            || norm.contains("..;")
            || norm.contains("...");
        let confidence = match (v.role, w.climbs, evasive) {
            (Role::WholePath, _, _) => Some(0.85),
            (_, _, true) => Some(0.8),
            (_, 3.., _) => Some(0.7),
            _ => None,
        };
        if let Some(confidence) = confidence {
            return Some(Finding::new(
                Category::PathTraversal,
                "dotdot_climb",
                confidence,
            ));
        }
    }
    if path_value {
        // `/c:/…`, `c:\…`, `c:windows\…`: a drive makes a path absolute.
        let unrooted = norm.trim_start_matches('/');
        let (rest, drive) = match unrooted.as_bytes() {
            [d, b':', ..] if d.is_ascii_alphabetic() => {
                (unrooted.get(2..).unwrap_or_default(), true)
            }
            _ => (unrooted, false),
        };
        let rooted = drive || unrooted.len() < norm.len();
        let rel = collapse(rest);
        let given = if rooted {
            Reach::Absolute
        } else {
            Reach::Anywhere
        };
        if sensitive(&rel, given) {
            return Some(Finding::new(Category::PathTraversal, "sensitive_file", 0.8));
        }
    }
    None
}

/// A path's segments without empty and `.` ones, joined: `/./etc//passwd` → `etc/passwd`.
fn collapse(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(segment);
    }
    out
}

fn is_lookalike(c: char) -> bool {
    matches!(
        c,
        '\u{2215}'
            | '\u{2216}'
            | '\u{2044}'
            | '\u{FF0F}'
            | '\u{FF3C}'
            | '\u{FF0E}'
            | '\u{3002}'
            | '\u{FF61}'
            | '\u{2024}'
    )
}

/// Whether a value starts with one of [`WRAPPERS`] and a colon.
fn has_wrapper_scheme(b: &[u8]) -> bool {
    let b = b.trim_ascii_start();
    WRAPPERS
        .iter()
        .any(|w| text::starts_with_ci(b, w.as_bytes()) && b.get(w.len()) == Some(&b':'))
}

/// Roots of the relative paths that are targets wherever they appear (`etc/passwd`).
const RELATIVE_ROOTS: [&str; 6] = ["etc", "proc", "windows", "win.ini", "boot.ini", "web-inf"];

/// Whether a value may be a path to a target: it starts like an absolute path (`/`, `\`, a
/// drive) or a relative one (`.`, `~`), or its first segment is a target's root. URLs, emails,
/// versions and file names are not looked at further.
fn looks_like_path(b: &[u8]) -> bool {
    match b {
        [b'/' | b'\\' | b'.' | b'~', ..] => true,
        [d, b':', ..] if d.is_ascii_alphabetic() => true,
        _ => {
            let first = b
                .split(|&c| c == b'/' || c == b'\\')
                .next()
                .unwrap_or_default();
            RELATIVE_ROOTS
                .iter()
                .any(|r| first.eq_ignore_ascii_case(r.as_bytes()))
        }
    }
}

/// The value lowercased, with `\` and look-alike slashes as `/` and look-alike dots as `.`
/// (what a Windows or best-fit-mapping file API sees).
fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\\' | '\u{2215}' | '\u{2216}' | '\u{2044}' | '\u{FF0F}' | '\u{FF3C}' => '/',
            '\u{FF0E}' | '\u{3002}' | '\u{FF61}' | '\u{2024}' => '.',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Schemes that read local files or run code where a file name is expected.
const WRAPPERS: [&str; 8] = [
    "file", "php", "phar", "zip", "expect", "glob", "jar", "netdoc",
];

fn stream_wrapper(norm: &str) -> Option<&'static str> {
    let (scheme, rest) = norm.trim_start().split_once(':')?;
    let found = WRAPPERS.iter().find(|w| **w == scheme)?;
    // `file:` alone is enough; the others need their `://` (`php://filter`), so that
    // `zip: 10001` or `jar: cookies` in a form stay what they are.
    (*found == "file" && rest.starts_with('/') || rest.starts_with("//")).then_some(found)
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Walk {
    /// `..` segments.
    dotdots: u32,
    /// Those that went above the start.
    climbs: u32,
    /// A `..` reaches a file worth stealing.
    sensitive: bool,
}

/// Walks the segments of a normalised path. `..;` (Tomcat's path parameter) and runs of three
/// or more dots (left over when a filter strips `../` from `....//`) count as `..`.
fn walk(path: &str) -> Walk {
    let mut w = Walk::default();
    let mut depth = 0u32;
    let mut after_last = None;
    let mut offset = 0;
    for segment in path.split('/') {
        let next = offset + segment.len() + 1;
        let dotdot = segment.len() >= 2
            && (segment.bytes().all(|b| b == b'.') || segment.starts_with("..;"));
        if dotdot {
            w.dotdots += 1;
            match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => w.climbs += 1,
            }
            after_last = Some(next);
        } else if !(segment.is_empty() || segment == ".") {
            depth += 1;
        }
        offset = next;
    }
    if let Some(at) = after_last {
        let rest = path.get(at.min(path.len())..).unwrap_or_default();
        w.sensitive = sensitive(&collapse(rest), Reach::AfterDotdot);
    }
    w
}

/// How a path reached a target: what a target needs before it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    /// Through a `..` (the weakest claim: any target counts).
    AfterDotdot,
    /// As an absolute path given as a value.
    Absolute,
    /// As a relative path given as a value, without climbing.
    Anywhere,
}

/// Files and folders worth stealing, lowercase, relative to the root, each with the weakest
/// way of reaching it that still counts: `/var/log/nginx` is an ordinary setting, while
/// `../../var/log/…` is log poisoning; `etc/passwd` is never anything else.
const TARGETS: &[(&str, Reach)] = &[
    ("etc/passwd", Reach::Anywhere),
    ("etc/shadow", Reach::Anywhere),
    ("proc/self/", Reach::Anywhere),
    ("windows/win.ini", Reach::Anywhere),
    ("windows/system.ini", Reach::Anywhere),
    ("windows/system32/", Reach::Anywhere),
    ("win.ini", Reach::Anywhere),
    ("boot.ini", Reach::Anywhere),
    ("web-inf/web.xml", Reach::Anywhere),
    ("etc/", Reach::Absolute),
    ("proc/", Reach::Absolute),
    ("root/", Reach::Absolute),
    ("boot/", Reach::Absolute),
    ("windows/", Reach::Absolute),
    ("winnt/", Reach::Absolute),
    ("inetpub/", Reach::Absolute),
    ("system32/", Reach::Absolute),
    ("web-inf/", Reach::Absolute),
    ("meta-inf/", Reach::Absolute),
    (".ssh/", Reach::Absolute),
    (".aws/", Reach::Absolute),
    (".bash_history", Reach::Absolute),
    (".bashrc", Reach::Absolute),
    (".bash_profile", Reach::Absolute),
    (".htpasswd", Reach::Absolute),
    (".htaccess", Reach::Absolute),
    (".env", Reach::Absolute),
    (".git/", Reach::Absolute),
    ("var/log/", Reach::AfterDotdot),
    ("var/www/", Reach::AfterDotdot),
    ("usr/", Reach::AfterDotdot),
    ("bin/", Reach::AfterDotdot),
    ("dev/", Reach::AfterDotdot),
    ("home/", Reach::AfterDotdot),
    ("logs/", Reach::AfterDotdot),
    ("log/", Reach::AfterDotdot),
    ("apache/", Reach::AfterDotdot),
    ("apache2/", Reach::AfterDotdot),
    ("httpd/", Reach::AfterDotdot),
    ("nginx/", Reach::AfterDotdot),
    ("conf/", Reach::AfterDotdot),
    ("config/", Reach::AfterDotdot),
    ("id_rsa", Reach::AfterDotdot),
    ("wp-config.php", Reach::AfterDotdot),
    ("config.php", Reach::AfterDotdot),
    ("config.inc.php", Reach::AfterDotdot),
    ("configuration.php", Reach::AfterDotdot),
    ("settings.php", Reach::AfterDotdot),
    ("install.php", Reach::AfterDotdot),
    ("web.config", Reach::AfterDotdot),
    ("appsettings.json", Reach::AfterDotdot),
    ("application.properties", Reach::AfterDotdot),
    ("application.yml", Reach::AfterDotdot),
    ("database.yml", Reach::AfterDotdot),
];

fn sensitive(rel: &str, given: Reach) -> bool {
    TARGETS
        .iter()
        .any(|&(t, needs)| needs >= given && rel.starts_with(t))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{rule, run_as};
    use super::*;
    use crate::detection::hit::Part;

    fn file(raw: &str) -> Option<&'static str> {
        rule(Category::PathTraversal, "file", raw)
    }

    fn path(raw: &str) -> Option<&'static str> {
        run_as(
            Category::PathTraversal,
            Part::Path,
            None,
            raw,
            Role::WholePath,
        )
        .map(|f| f.rule)
    }

    #[test]
    fn climbs_and_targets_in_values() {
        assert_eq!(
            file("../../../../etc/passwd"),
            Some("dotdot_sensitive_file")
        );
        assert_eq!(
            file("..%2f..%2fetc%2fpasswd"),
            Some("dotdot_sensitive_file")
        );
        assert_eq!(
            file("....//....//etc/passwd"),
            Some("dotdot_sensitive_file")
        );
        assert_eq!(
            file("..\\..\\windows\\win.ini"),
            Some("dotdot_sensitive_file")
        );
        assert_eq!(
            file("..%u2215..%u2215etc%u2215passwd"),
            Some("dotdot_sensitive_file")
        );
        assert_eq!(
            file("..%c0%af..%c0%afetc/passwd"),
            Some("dotdot_sensitive_file")
        );
        assert_eq!(
            file("/var/www/../../etc/passwd"),
            Some("dotdot_sensitive_file")
        );
        assert_eq!(file("../../../notes/readme.txt"), Some("dotdot_climb"));
        assert_eq!(file("../../../config.php"), Some("dotdot_sensitive_file"));
        assert_eq!(file("%2e%2e/secret"), Some("dotdot_climb"));
        assert_eq!(file("/etc/passwd"), Some("sensitive_file"));
        assert_eq!(file("C:\\Windows\\win.ini"), Some("sensitive_file"));
        assert_eq!(file("/./././etc/passwd"), Some("sensitive_file"));
        assert_eq!(file("Etc\\shadow"), Some("sensitive_file"));
        assert_eq!(file("％２ｅ"), None);
        assert_eq!(
            file("．．／．．／．．／etc／passwd"),
            Some("dotdot_sensitive_file")
        );
        assert_eq!(file("etc/shadow"), Some("sensitive_file"));
        assert_eq!(file("/etc/my.cnf"), Some("sensitive_file"));
        assert_eq!(file("/C:/inetpub/ftproot/"), Some("sensitive_file"));
        assert_eq!(file("c:WINDOWS/system32/"), Some("sensitive_file"));

        assert_eq!(file("file:///etc/passwd"), Some("file_scheme"));
        assert_eq!(
            file("php://filter/convert.base64-encode/resource=index.php"),
            Some("file_scheme")
        );
    }

    #[test]
    fn ordinary_paths_pass() {
        for p in [
            "report.v1.2.tar.gz",
            "docs/guide/../intro.md",
            "../assets/logo.png",
            "../../assets/logo.png",
            "/home/alice/projects/../docs",
            "/var/log/nginx",
            "var/log/nginx",
            "config.php",
            "uploads/2024/03/invoice.pdf",
            "alice@example.com",
            "v1.2.3",
            "..hidden.txt",
            "wait...what?",
            "See [the docs](../docs/README.md) for details.",
            "/etc/passwd file format explained",
            "zip: 10001",
            "file: report.pdf",
        ] {
            assert_eq!(file(p), None, "{p}");
        }
    }

    #[test]
    fn request_paths() {
        assert_eq!(path("/static/../../../x"), Some("dotdot_climb"));
        assert_eq!(path("/..;/..;/etc/passwd"), Some("dotdot_sensitive_file"));
        assert_eq!(
            path("/cgi-bin/.%2e/.%2e/.%2e/etc/passwd"),
            Some("dotdot_sensitive_file")
        );
        assert_eq!(path("/a/b/../c"), None);
        assert_eq!(path("/etc/config.json"), None);
        assert_eq!(path("/static/app.3f2a.js"), None);
    }

    #[test]
    fn walking() {
        assert_eq!(
            walk("a/../../b"),
            Walk {
                dotdots: 2,
                climbs: 1,
                sensitive: false
            }
        );
        assert!(walk("../../etc/passwd").sensitive);
        assert!(walk("../.htpasswd").sensitive);
        assert!(walk(".././logs/access.log").sensitive);
        assert!(!walk("etc/passwd").sensitive);
        assert_eq!(collapse("/./etc//./passwd/"), "etc/passwd");
    }
}
