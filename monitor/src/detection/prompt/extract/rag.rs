//! Retrieved documents pasted into a message (retrieval-augmented generation): `<document>`,
//! `<context>` and similar blocks, or a `Context:` section up to the question. They are data,
//! not the user's words, so they are inspected as retrieved content (indirect injection).

/// A message split into the user's own text and the documents it carries.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Split<'a> {
    pub rest: String,
    pub documents: Vec<&'a str>,
}

/// Documents taken out of one message.
const MAX_DOCUMENTS: usize = 16;

/// Tags that wrap retrieved content in prompts.
const TAGS: &[&str] = &[
    "documents",
    "document",
    "doc",
    "context",
    "search_results",
    "search_result",
    "retrieved_documents",
    "retrieved",
    "sources",
    "source",
    "excerpt",
    "passage",
    "article",
    "webpage",
    "web_page",
    "email",
    "file",
    "tool_output",
    "knowledge",
    "references",
];

/// Lines that open a context section, and lines that close it.
const HEADERS: &[&str] = &[
    "context:",
    "context information",
    "retrieved context",
    "retrieved documents",
    "documents:",
    "sources:",
    "search results:",
    "relevant passages",
    "relevant documents",
    "knowledge base:",
    "reference material",
    "background information:",
];
const ENDS: &[&str] = &[
    "question:",
    "query:",
    "user question",
    "answer:",
    "task:",
    "instructions:",
    "user:",
    "now answer",
    "based on the context",
    "using the context",
    "given the context",
];

pub fn split(text: &str) -> Split<'_> {
    // Cheap refusal for the common message without any of the delimiters.
    if !text.contains('<') && !text.contains(':') {
        return Split::default();
    }
    let tagged = by_tags(text);
    if !tagged.documents.is_empty() {
        return tagged;
    }
    by_headers(text)
}

fn by_tags(text: &str) -> Split<'_> {
    let lower = text.to_ascii_lowercase();
    let mut out = Split::default();
    let mut pos = 0;
    while out.documents.len() < MAX_DOCUMENTS {
        // The earliest opening tag from here.
        let Some((at, tag)) = TAGS
            .iter()
            .filter_map(|tag| open_tag(&lower, pos, tag).map(|at| (at, *tag)))
            .min_by_key(|(at, _)| *at)
        else {
            break;
        };
        let Some(open_end) = lower
            .get(at..)
            .and_then(|r| r.find('>'))
            .map(|e| at + e + 1)
        else {
            break;
        };
        let close = format!("</{tag}>");
        let (body_end, next) = match lower.get(open_end..).and_then(|r| r.find(&close)) {
            Some(e) => (open_end + e, open_end + e + close.len()),
            None => (lower.len(), lower.len()),
        };
        out.rest.push_str(text.get(pos..at).unwrap_or(""));
        out.rest.push('\n');
        if let Some(body) = text.get(open_end..body_end)
            && !body.trim().is_empty()
        {
            out.documents.push(body);
        }
        pos = next;
    }
    if out.documents.is_empty() {
        return Split::default();
    }
    out.rest.push_str(text.get(pos..).unwrap_or(""));
    out
}

/// Where `<tag>` or `<tag attr...>` opens at or after `from`.
fn open_tag(lower: &str, from: usize, tag: &str) -> Option<usize> {
    let mut search = from;
    loop {
        let at = search + lower.get(search..)?.find('<')?;
        let after = lower.get(at + 1..)?;
        if let Some(rest) = after.strip_prefix(tag)
            && rest.starts_with(['>', ' ', '\n', '\t'])
        {
            return Some(at);
        }
        search = at + 1;
    }
}

fn by_headers(text: &str) -> Split<'_> {
    let mut out = Split::default();
    let mut open: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let lower = line.trim_start().to_ascii_lowercase();
        match open {
            None if HEADERS.iter().any(|h| lower.starts_with(h)) => {
                open = Some(offset);
            }
            None => out.rest.push_str(line),
            Some(start) if ENDS.iter().any(|e| lower.starts_with(e)) => {
                push_doc(&mut out, text.get(start..offset).unwrap_or(""));
                open = None;
                out.rest.push_str(line);
            }
            Some(_) => {}
        }
        offset += line.len();
        if out.documents.len() >= MAX_DOCUMENTS {
            out.rest.push_str(text.get(offset..).unwrap_or(""));
            return out;
        }
    }
    if let Some(start) = open {
        push_doc(&mut out, text.get(start..).unwrap_or(""));
    }
    if out.documents.is_empty() {
        return Split::default();
    }
    out
}

fn push_doc<'a>(out: &mut Split<'a>, doc: &'a str) {
    if !doc.trim().is_empty() {
        out.documents.push(doc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_documents_are_taken_out() {
        let s = split(
            "Answer from these.\n<documents><document index=\"1\">A says x</document></documents>\nWhat is x?",
        );
        assert_eq!(s.documents, ["<document index=\"1\">A says x</document>"]);
        assert_eq!(s.rest, "Answer from these.\n\n\nWhat is x?");
        let s = split("<CONTEXT>\nnever closed");
        assert_eq!(s.documents, ["\nnever closed"]);
    }

    #[test]
    fn a_context_section_runs_to_the_question() {
        let s = split("Use the context.\nContext:\nDoc one.\nDoc two.\nQuestion: why?\n");
        assert_eq!(s.documents, ["Context:\nDoc one.\nDoc two.\n"]);
        assert_eq!(s.rest, "Use the context.\nQuestion: why?\n");
    }

    #[test]
    fn plain_messages_are_left_whole() {
        assert_eq!(split("hello there"), Split::default());
        assert_eq!(split("a < b and c: d"), Split::default());
        assert_eq!(split("<b>bold</b>"), Split::default());
    }
}
