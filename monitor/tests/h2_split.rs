//! Property: however each read of an HTTP/2 conversation is split into chunks, the protocol
//! router and the HTTP/2 stage emit the same transactions (every golden conversation).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use monitor::{
    config::HttpConfig,
    conn::{Direction, model::Attribution},
    transaction::HttpTransaction,
};
use proptest::prelude::*;

mod h2gen;

use h2gen::{Item, feed::Feed};

/// Runs `items`, each read cut where `cuts` says (cut sizes, used in turn), every piece of one
/// read at that read's time.
fn run(items: &[Item], cuts: &[usize]) -> Vec<HttpTransaction> {
    let attribution = if items
        .iter()
        .any(|i| matches!(i, Item::Directive(d) if d == "attribution proc"))
    {
        Attribution::Proc
    } else {
        Attribution::Kernel
    };
    let mut feed = Feed::open(&HttpConfig::default(), attribution);
    let mut cut = cuts.iter().cycle();
    for (i, item) in items.iter().enumerate() {
        let (dir, bytes) = match item {
            Item::Out(b) => (Direction::Egress, b),
            Item::In(b) => (Direction::Ingress, b),
            _ => continue,
        };
        let ts = 1_000 * (i as u64 + 1);
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = if cuts.is_empty() {
                rest.len()
            } else {
                (*cut.next().unwrap()).clamp(1, rest.len())
            };
            let (piece, r) = rest.split_at(n);
            rest = r;
            feed.send(dir, piece, ts);
        }
    }
    feed.close(1_000_000);
    feed.out
}

#[test]
fn unsplit_goldens_emit_transactions() {
    for (name, conv) in h2gen::goldens() {
        assert!(!run(&conv.items, &[]).is_empty(), "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_split_gives_the_same_transactions(
        which in 0usize..11,
        cuts in prop::collection::vec(1usize..40, 1..16),
    ) {
        let goldens = h2gen::goldens();
        let (name, conv) = &goldens[which % goldens.len()];
        let whole = run(&conv.items, &[]);
        let split = run(&conv.items, &cuts);
        prop_assert_eq!(whole, split, "{}", name);
    }

    #[test]
    fn one_octet_at_a_time_is_the_same(which in 0usize..11) {
        let goldens = h2gen::goldens();
        let (name, conv) = &goldens[which % goldens.len()];
        prop_assert_eq!(run(&conv.items, &[]), run(&conv.items, &[1]), "{}", name);
    }
}
