//! Path traversal: `..` segments that climb above where a path starts, or reach a file worth
//! stealing, after folding `\`, look-alike slashes and dots, `..;` and `....`; absolute paths
//! of such files given as a value; `file:` and PHP-style stream wrappers.

use super::{Finding, Role, Value, text};
use crate::detection::{category::Category, signatures::classes::Classes};

pub fn check(v: &Value<'_>) -> Option<Finding> {
    let c = v.classes;
    let b = v.text.as_bytes();
    let dots = c.any(Classes::DOT) && memchr::memmem::find(b, b"..").is_some();
    // Look-alike dots and slashes are not ASCII, so a value of plain ASCII without `..`, a
    // scheme or a leading slash cannot match.
    let wrapper = c.any(Classes::COLON) && v.role != Role::WholePath;
    let absolute = v.role == Role::Value && matches!(b.first(), Some(b'/' | b'\\'))
        || c.any(Classes::COLON) && b.get(1) == Some(&b':');
    if !(dots || wrapper || absolute || c.any(Classes::OTHER)) {
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
            .any(|w| w.dotdots > 0 && w.sensitive)
            .then(|| Finding::new(Category::PathTraversal, "dotdot_sensitive_file", 0.9));
    }
    let w = walk(&norm);
    if w.dotdots > 0 && w.sensitive {
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
    if absolute && v.role == Role::Value && !c.has_space() {
        let path = norm.strip_prefix("c:").unwrap_or(&norm);
        let rel = path.trim_start_matches('/');
        if path.len() > rel.len() && sensitive(rel, true) {
            return Some(Finding::new(Category::PathTraversal, "sensitive_file", 0.8));
        }
    }
    None
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
    /// What follows the last `..` is a file worth stealing.
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
        w.sensitive = sensitive(rest.trim_start_matches(['/', '.']), false);
    }
    w
}

/// Files and folders worth stealing, lowercase, relative to the root; `true` when the path is
/// sensitive given as an absolute path too (the rest only after a `..`, since `/var/log/nginx`
/// is an ordinary setting).
const TARGETS: &[(&str, bool)] = &[
    ("etc/passwd", true),
    ("etc/shadow", true),
    ("etc/group", true),
    ("etc/sudoers", true),
    ("etc/hosts", false),
    ("etc/issue", false),
    ("etc/crontab", false),
    ("etc/", false),
    ("proc/self/", true),
    ("proc/version", false),
    ("proc/", false),
    ("root/", false),
    ("var/log/", false),
    ("var/www/", false),
    ("windows/win.ini", true),
    ("windows/system.ini", true),
    ("windows/system32/", true),
    ("windows/", false),
    ("winnt/", false),
    ("win.ini", true),
    ("boot.ini", true),
    ("inetpub/", false),
    ("web-inf/web.xml", true),
    ("web-inf/", false),
    ("meta-inf/", false),
    ("root/.ssh/", true),
    (".ssh/", false),
    ("id_rsa", false),
    (".env", false),
    (".git/", false),
    (".htaccess", false),
    (".htpasswd", false),
    (".aws/", false),
    (".bash_history", false),
    ("wp-config.php", false),
    ("web.config", false),
    ("appsettings.json", false),
    ("application.properties", false),
];

fn sensitive(rel: &str, absolute: bool) -> bool {
    TARGETS
        .iter()
        .any(|&(t, abs)| (abs || !absolute) && rel.starts_with(t))
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
        assert_eq!(file("../../../config.php"), Some("dotdot_climb"));
        assert_eq!(file("%2e%2e/secret"), Some("dotdot_climb"));
        assert_eq!(file("/etc/passwd"), Some("sensitive_file"));
        assert_eq!(file("C:\\Windows\\win.ini"), Some("sensitive_file"));
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
        assert!(!walk("etc/passwd").sensitive);
    }
}
