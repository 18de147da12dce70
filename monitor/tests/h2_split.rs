//! Property: however each read of an HTTP/2 conversation is split into chunks, the protocol
//! router and the HTTP/2 stage emit the same transactions (every golden conversation).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{net::SocketAddr, sync::Arc};

use bytes::Bytes;
use monitor::{
    capture::Endpoints,
    config::HttpConfig,
    conn::{
        ConnMeta, Direction, Role, StreamEvent,
        model::{Attribution, CloseReason, DirectionTotals, Origin},
    },
    protocol::ProtocolStage,
    transaction::HttpTransaction,
};
use monitor_common::event::Syscall;
use proptest::prelude::*;

mod h2gen;

use h2gen::Item;

fn meta(attribution: Attribution) -> Arc<ConnMeta> {
    Arc::new(ConnMeta {
        id: 7,
        pid: 1,
        comm: "c".into(),
        fd: 3,
        cgroup_id: 0,
        endpoints: Some(Endpoints {
            local: "10.0.0.1:40000".parse::<SocketAddr>().unwrap(),
            remote: "10.0.0.2:8080".parse::<SocketAddr>().unwrap(),
        }),
        role: Role::Client,
        attribution,
        tls_library: None,
    })
}

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
    let m = meta(attribution);
    let mut stage = ProtocolStage::new(&HttpConfig::default());
    let mut out = Vec::new();
    stage.on_event(
        &StreamEvent::Open {
            meta: m.clone(),
            ts_ns: 1,
        },
        &mut out,
    );
    let mut offs = [0u64; 2];
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
            stage.on_event(
                &StreamEvent::Data {
                    meta: m.clone(),
                    direction: dir,
                    offset: offs[dir.index()],
                    ts_ns: ts,
                    origin: Origin {
                        pid: 1,
                        tid: 1,
                        comm: "c".into(),
                        syscall: Syscall::Write,
                    },
                    bytes: Bytes::copy_from_slice(piece),
                },
                &mut out,
            );
            offs[dir.index()] += n as u64;
        }
    }
    stage.on_event(
        &StreamEvent::Close {
            meta: m,
            ts_ns: 1_000_000,
            reason: CloseReason::Closed,
            egress: DirectionTotals::default(),
            ingress: DirectionTotals::default(),
        },
        &mut out,
    );
    out
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
