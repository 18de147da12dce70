//! Writes a synthetic recording for `cargo xtask bench replay`: many keep-alive connections of
//! a JSON API, client side, as the kernel programs would have captured them.
//!
//!     cargo run --release -p monitor --example gen_recording -- OUT TRANSACTIONS [CONNECTIONS] [attack|benign]
//!
//! `attack` (the default) is 97 tokens each walking user ids in steps of 97 at a machine's
//! cadence: every actor is under alert (enumeration, bot cadence) for most of its requests,
//! detection's costliest case. `benign` gives each connection one user reading its own orders
//! at irregular intervals with pauses, each token a few hundred requests a minute whatever the length (a
//! machine's pace would be a rate anomaly once the recording spans a minute): detection's
//! everyday case.

use std::{
    fs::File,
    io::{self, BufWriter},
    net::SocketAddr,
    process::ExitCode,
};

use bytes::Bytes;
use monitor::{
    capture::{
        Endpoints,
        decode::{CloseRecord, DataEvent, UncapturedCause},
        encode::{encode_close, encode_data},
    },
    conn::{Direction, Role},
    record::{FileHeader, Record, RecordWriter},
};
use monitor_common::event::Syscall;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(out), Some(Ok(total))) = (args.get(1), args.get(2).map(|s| s.parse::<u64>())) else {
        eprintln!("usage: gen_recording OUT TRANSACTIONS [CONNECTIONS]");
        return ExitCode::from(2);
    };
    let conns: u64 = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
        .max(1);
    let benign = match args.get(4).map(String::as_str) {
        None | Some("attack") => false,
        Some("benign") => true,
        Some(other) => {
            eprintln!("gen_recording: traffic is attack or benign, not {other}");
            return ExitCode::from(2);
        }
    };
    match generate(out, total, conns, benign) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gen_recording: {err}");
            ExitCode::FAILURE
        }
    }
}

struct Conn {
    id: u64,
    endpoints: Endpoints,
    offsets: [u64; 2],
    done: u64,
}

/// A well-mixed 64-bit hash (splitmix64's finaliser), for repeatable pseudo-random choices.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn generate(out: &str, total: u64, conns: u64, benign: bool) -> io::Result<()> {
    let file = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut w = RecordWriter::new(
        file,
        &FileHeader::new(1_700_000_000_000_000_000, 1_700_000_000_000_000_000),
    )?;
    let per_conn = total.div_ceil(conns);
    let mut open: Vec<Conn> = (0..conns)
        .map(|i| Conn {
            id: (1_000 + i) << 8,
            endpoints: Endpoints {
                local: SocketAddr::from(([10, 0, 0, 1], 40_000 + i as u16)),
                remote: SocketAddr::from(([10, 0, 0, 2], 8080)),
            },
            offsets: [0, 0],
            done: 0,
        })
        .collect();
    // Recorded time between two events: the attack goes at a machine's pace, the benign
    // traffic slow enough that no token's rate is an anomaly (about 300 a minute each).
    let step = if benign { 1_000_000 } else { 20_000 };
    let mut now = 1_000_000u64;
    let mut written = 0u64;
    let mut tick_at = now;
    let mut round = 0u64;
    while written < total {
        round += 1;
        for c in open.iter_mut() {
            if written >= total || c.done >= per_conn {
                continue;
            }
            // A benign connection sits out about half the rounds (irregular intervals), and
            // its user pauses a quarter of the time (8 rounds, a second or two: people stop
            // to read).
            let who = (c.id >> 8) % 97;
            if benign
                && (mix(written ^ (c.id << 20)) & 1 == 0 || (round / 8 + who).is_multiple_of(4))
            {
                continue;
            }
            let n = written;
            let (user, page, token) = if benign {
                (who * 37 % 5000, c.done % 3, who)
            } else {
                (n % 5000, n % 7, n % 97)
            };
            let req = format!(
                "GET /api/v1/users/{user}/orders?page={page}&limit=50 HTTP/1.1\r\nHost: api.internal:8080\r\nUser-Agent: bench/1.0\r\nAccept: application/json\r\nAuthorization: Bearer tok{token}\r\n\r\n"
            );
            let body = format!(
                "{{\"user\":{},\"orders\":[{{\"id\":{},\"total\":{}.50,\"status\":\"shipped\"}}],\"next\":null}}",
                user,
                n,
                n % 300
            );
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\r\n{body}",
                body.len()
            );
            for (dir, bytes) in [(Direction::Egress, req), (Direction::Ingress, resp)] {
                now += step;
                let off = &mut c.offsets[dir.index()];
                let ev = DataEvent {
                    syscall: if dir == Direction::Egress {
                        Syscall::Write
                    } else {
                        Syscall::Read
                    },
                    direction: dir,
                    role: Role::Client,
                    ts_ns: now,
                    conn_id: c.id,
                    offset: *off,
                    lost_total: 0,
                    pid: 4242,
                    tid: 4242,
                    fd: 7,
                    uncaptured_len: 0,
                    uncaptured_cause: UncapturedCause::Truncated,
                    cgroup_id: 1,
                    comm: "bench-client".into(),
                    endpoints: Some(c.endpoints),
                    tls_library: None,
                    payload: Bytes::from(bytes.into_bytes()),
                };
                *off += ev.payload.len() as u64;
                w.write(&Record::Kernel {
                    now_ns: now,
                    bytes: encode_data(&ev).into(),
                })?;
            }
            c.done += 1;
            written += 1;
            if now >= tick_at {
                w.write(&Record::Tick { now_ns: now })?;
                tick_at = now + 100_000_000;
            }
        }
    }
    for c in &open {
        now += 1_000;
        let close = CloseRecord {
            ts_ns: now,
            conn_id: c.id,
            role: Role::Client,
            tx_bytes: c.offsets[0],
            rx_bytes: c.offsets[1],
            tx_lost: 0,
            rx_lost: 0,
            endpoints: Some(c.endpoints),
        };
        w.write(&Record::Kernel {
            now_ns: now,
            bytes: encode_close(&close).into(),
        })?;
    }
    open.clear();
    w.write(&Record::End { now_ns: now })?;
    let mut file = w.finish()?;
    io::Write::flush(&mut file)
}
