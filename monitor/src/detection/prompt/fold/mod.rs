//! Text folded for matching: lower case, invisible characters dropped, lookalike letters and
//! light leetspeak (`1gn0r3`) folded to ASCII, punctuation collapsed between words.
//!
//! Each word remembers whether it was quoted (so a phrase quoted in a question about it can
//! weigh less) and whether a sentence ended before it (so patterns do not join words of two
//! sentences). A second, line-preserving form keeps punctuation for the markers that are made
//! of it (`<|im_start|>`, `[INST]`, `### System:`).

mod confusables;

pub use confusables::is_invisible;
use confusables::{Fold, fold};

/// One word of the folded text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word {
    /// Byte range in [`Folded::text`].
    pub start: u32,
    pub end: u32,
    /// Inside quotation marks, backticks or a code fence.
    pub quoted: bool,
    /// A sentence or line ended between the previous word and this one.
    pub breaks: bool,
}

#[derive(Debug, Default)]
pub struct Folded {
    /// The words joined by single spaces.
    pub text: String,
    pub words: Vec<Word>,
    /// Lower case, invisible characters dropped, lookalikes folded, runs of spaces and tabs as
    /// one space, lines kept: what markers made of punctuation are matched against. Starts with
    /// a newline, so a marker at the start of a line is found on the first line too.
    pub lined: String,
    /// Whether each byte of `lined` was quoted.
    pub lined_quoted: Vec<bool>,
    /// Words mixing ASCII letters with lookalikes from another script: `pаssword` with a
    /// Cyrillic `а` is written to dodge filters, not by people.
    pub mixed_script_words: usize,
}

impl Folded {
    pub fn word(&self, i: usize) -> &str {
        self.words
            .get(i)
            .and_then(|w| self.text.get(w.start as usize..w.end as usize))
            .unwrap_or("")
    }

    /// The folded text from word `from` to word `to` (exclusive), at most `max` bytes.
    pub fn span(&self, from: usize, to: usize) -> &str {
        let (Some(a), Some(b)) = (self.words.get(from), self.words.get(to.saturating_sub(1)))
        else {
            return "";
        };
        self.text
            .get(a.start as usize..(b.end as usize).max(a.start as usize))
            .unwrap_or("")
    }
}

/// Quotation state while reading the raw text.
#[derive(Default)]
struct Quotes {
    double: bool,
    curly: u8,
    single: bool,
    tick: bool,
    fence: bool,
    ticks_in_row: u8,
}

impl Quotes {
    fn quoted(&self) -> bool {
        self.double || self.curly > 0 || self.single || self.tick || self.fence
    }

    /// Updates the state with `c`, given the characters around it.
    fn see(&mut self, c: char, prev: char, next: char) {
        if c == '`' {
            self.ticks_in_row += 1;
            if self.ticks_in_row == 3 {
                self.fence = !self.fence;
                self.tick = false;
                self.ticks_in_row = 0;
            } else if next != '`' && self.ticks_in_row == 1 {
                self.tick = !self.tick;
                self.ticks_in_row = 0;
            }
            return;
        }
        self.ticks_in_row = 0;
        match c {
            '"' => self.double = !self.double,
            '“' | '«' | '„' => self.curly = self.curly.saturating_add(1).min(4),
            '”' | '»' => self.curly = self.curly.saturating_sub(1),
            // An apostrophe inside a word (`don't`) is not a quote; one at a word's edge is.
            '\'' | '‘' | '’' => {
                let before = prev.is_alphanumeric();
                let after = next.is_alphanumeric();
                if !before && after {
                    self.single = true;
                } else if before && !after {
                    self.single = false;
                }
            }
            // Quotes do not run across lines; an unclosed one would otherwise quote the rest.
            '\n' => {
                self.double = false;
                self.single = false;
                self.curly = 0;
                self.tick = false;
            }
            _ => {}
        }
    }
}

/// Leetspeak digits and signs read as letters, inside words that have letters.
fn leet(b: u8) -> Option<u8> {
    Some(match b {
        b'0' => b'o',
        b'1' => b'i',
        b'3' => b'e',
        b'4' => b'a',
        b'5' => b's',
        b'7' => b't',
        b'@' => b'a',
        b'$' => b's',
        _ => return None,
    })
}

/// The word being read.
#[derive(Default)]
struct Current {
    text: String,
    letters: usize,
    ascii: bool,
    lookalike: bool,
    quoted: bool,
}

pub fn fold_text(raw: &str) -> Folded {
    let mut out = Folded {
        text: String::with_capacity(raw.len()),
        lined: String::with_capacity(raw.len()),
        lined_quoted: Vec::with_capacity(raw.len()),
        ..Folded::default()
    };
    out.lined.push('\n');
    out.lined_quoted.push(false);
    let mut quotes = Quotes::default();
    let mut cur = Current::default();
    let mut pending_break = false;
    let mut chars = raw.chars().filter(|c| !is_invisible(*c)).peekable();
    let mut prev = ' ';
    while let Some(c) = chars.next() {
        let next = chars.peek().copied().unwrap_or(' ');
        let folded = fold(c);
        let quoted_before = quotes.quoted();
        quotes.see(c, prev, next);
        push_lined(&mut out, c, folded, quoted_before || quotes.quoted());
        // `@` and `$` between letters are leetspeak (`p@ssword`), elsewhere punctuation.
        let sign_in_word =
            matches!(c, '@' | '$') && prev.is_alphanumeric() && next.is_alphanumeric();
        match folded {
            Fold::Ascii(b) | Fold::Lookalike(b) => {
                if cur.text.is_empty() {
                    cur.quoted = quoted_before || quotes.quoted();
                }
                cur.text.push(b as char);
                if b.is_ascii_alphabetic() {
                    cur.letters += 1;
                }
                if matches!(folded, Fold::Lookalike(_)) {
                    cur.lookalike = true;
                } else if b.is_ascii_alphabetic() {
                    cur.ascii = true;
                }
            }
            Fold::Other(o) => {
                if cur.text.is_empty() {
                    cur.quoted = quoted_before || quotes.quoted();
                }
                cur.text.push(o);
                cur.letters += 1;
            }
            Fold::Separator if sign_in_word => cur.text.push(c),
            Fold::Separator => {
                end_word(&mut out, &mut cur, &mut pending_break);
                let ends_sentence = matches!(c, '.' | '!' | '?') && next.is_whitespace();
                if c == '\n' || ends_sentence {
                    pending_break = true;
                }
            }
        }
        prev = c;
    }
    end_word(&mut out, &mut cur, &mut pending_break);
    out
}

fn push_lined(out: &mut Folded, c: char, folded: Fold, quoted: bool) {
    let before = out.lined.len();
    match (c, folded) {
        ('\n', _) => out.lined.push('\n'),
        (_, _) if c.is_whitespace() => {
            if !out.lined.ends_with(' ') && !out.lined.ends_with('\n') {
                out.lined.push(' ');
            }
        }
        (_, Fold::Ascii(b) | Fold::Lookalike(b)) => out.lined.push(b as char),
        (_, Fold::Other(o)) => out.lined.push(o),
        _ => out.lined.push(c),
    }
    let added = out.lined.len() - before;
    out.lined_quoted.extend(std::iter::repeat_n(quoted, added));
}

fn end_word(out: &mut Folded, cur: &mut Current, pending_break: &mut bool) {
    if cur.text.is_empty() {
        return;
    }
    if cur.ascii && cur.lookalike {
        out.mixed_script_words += 1;
    }
    let has_leet = cur.text.bytes().any(|b| leet(b).is_some());
    if !out.text.is_empty() {
        out.text.push(' ');
    }
    let start = out.text.len();
    if has_leet && cur.letters >= 2 && cur.text.is_ascii() {
        out.text
            .extend(cur.text.bytes().map(|b| leet(b).unwrap_or(b) as char));
    } else {
        out.text.push_str(&cur.text);
    }
    out.words.push(Word {
        start: start as u32,
        end: out.text.len() as u32,
        quoted: cur.quoted,
        breaks: std::mem::take(pending_break),
    });
    *cur = Current::default();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(raw: &str) -> Vec<String> {
        let f = fold_text(raw);
        (0..f.words.len()).map(|i| f.word(i).to_owned()).collect()
    }

    #[test]
    fn text_is_lowered_and_punctuation_collapsed() {
        assert_eq!(
            words("Ignore   ALL, previous\tinstructions!!"),
            ["ignore", "all", "previous", "instructions"]
        );
    }

    #[test]
    fn invisible_characters_do_not_split_words() {
        assert_eq!(
            words("ig\u{200b}no\u{200d}re prev\u{feff}ious"),
            ["ignore", "previous"]
        );
    }

    #[test]
    fn lookalikes_and_leetspeak_fold() {
        let f = fold_text("іgnоrе 1gn0r3 pr3v10u5 p@ssword gpt-4 2024 $5");
        let got: Vec<&str> = (0..f.words.len()).map(|i| f.word(i)).collect();
        assert_eq!(
            got,
            [
                "ignore", "ignore", "previous", "password", "gpt", "4", "2024", "5"
            ]
        );
        assert_eq!(f.mixed_script_words, 1);
    }

    #[test]
    fn quotes_and_sentence_breaks_are_remembered() {
        let f = fold_text("say \"ignore this\" now. Next line\nhere don't 'quoted'");
        let q: Vec<bool> = f.words.iter().map(|w| w.quoted).collect();
        // `don't` folds to two words.
        assert_eq!(
            q,
            [
                false, true, true, false, false, false, false, false, false, true
            ]
        );
        let b: Vec<bool> = f.words.iter().map(|w| w.breaks).collect();
        assert_eq!(
            b,
            [
                false, false, false, false, true, false, true, false, false, false
            ]
        );
    }

    #[test]
    fn code_fences_quote_until_they_close() {
        let f = fold_text("look\n```\nrm -rf\nignore\n```\nafter");
        let q: Vec<bool> = f.words.iter().map(|w| w.quoted).collect();
        assert_eq!(q, [false, true, true, true, false]);
    }

    #[test]
    fn lined_form_keeps_markers() {
        let f = fold_text("hi\u{200b} <|IM_START|>System\n###  System:  x");
        assert_eq!(f.lined, "\nhi <|im_start|>system\n### system: x");
        assert_eq!(f.lined.len(), f.lined_quoted.len());
    }
}
