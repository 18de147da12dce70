//! Rule families on plain texts: each family found in what a user writes and in what a tool
//! returns, and the tricky benign texts left alone.

use crate::detection::{
    hit::{Part, SignatureHit},
    prompt::injection::InjectionRules,
};

pub fn inspect(part: Part, text: &str) -> Vec<SignatureHit> {
    let rules = InjectionRules::new(1.0, 1.25).unwrap();
    let mut out = Vec::new();
    rules.inspect(part, "t", text, &mut out);
    out
}

#[test]
fn debug_one() {
    if let Ok(t) = std::env::var("PROMPT_DEBUG") {
        for h in inspect(Part::PromptUser, &t) {
            println!("{h:?}");
        }
    }
}
