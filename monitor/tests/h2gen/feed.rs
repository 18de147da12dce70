//! One connection's reads fed to the protocol router, as the pipeline feeds it: an Open, Data
//! events at running offsets, a Close; what it emits is collected.

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

pub struct Feed {
    meta: Arc<ConnMeta>,
    pub stage: ProtocolStage,
    offs: [u64; 2],
    pub out: Vec<HttpTransaction>,
}

impl Feed {
    /// A client's connection 10.0.0.1:40000 → 10.0.0.2:8080, opened at 1 ns.
    pub fn open(config: &HttpConfig, attribution: Attribution) -> Feed {
        let meta = Arc::new(ConnMeta {
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
        });
        let mut f = Feed {
            meta: meta.clone(),
            stage: ProtocolStage::new(config),
            offs: [0; 2],
            out: Vec::new(),
        };
        f.stage
            .on_event(&StreamEvent::Open { meta, ts_ns: 1 }, &mut f.out);
        f
    }

    /// One read of `bytes` in direction `dir` at `ts`.
    pub fn send(&mut self, dir: Direction, bytes: &[u8], ts: u64) {
        self.stage.on_event(
            &StreamEvent::Data {
                meta: self.meta.clone(),
                direction: dir,
                offset: self.offs[dir.index()],
                ts_ns: ts,
                origin: Origin {
                    pid: 1,
                    tid: 1,
                    comm: "c".into(),
                    syscall: Syscall::Write,
                },
                bytes: Bytes::copy_from_slice(bytes),
            },
            &mut self.out,
        );
        self.offs[dir.index()] += bytes.len() as u64;
    }

    pub fn close(&mut self, ts: u64) {
        self.stage.on_event(
            &StreamEvent::Close {
                meta: self.meta.clone(),
                ts_ns: ts,
                reason: CloseReason::Closed,
                egress: DirectionTotals::default(),
                ingress: DirectionTotals::default(),
            },
            &mut self.out,
        );
    }
}
