//! The seed corpus of `http1_stream`: hand-written conversations in the fuzz input format. The
//! files in `corpus/http1_stream/` are written from here (`UPDATE_CORPUS=1 cargo test`), and a
//! test fails when they differ, so the seeds follow the format when it changes.

use monitor::conn::{Direction, Role, model::Attribution};

use crate::script::{Encoder, Header};

const CLIENT: Header = Header {
    role: Role::Client,
    attribution: Attribution::Kernel,
    endpoints: true,
};

const SERVER: Header = Header {
    role: Role::Server,
    attribution: Attribution::Kernel,
    endpoints: true,
};

/// Joined mid-stream: the readers start by resynchronising.
const OLD_UNKNOWN: Header = Header {
    role: Role::Unknown,
    attribution: Attribution::Proc,
    endpoints: false,
};

/// `{"password":"hunter2","items":[1,2,3],"token":"abc"}`, gzipped: the renderer decodes it and
/// redacts fields.
const GZIP_JSON: &[u8] = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xab\x56\x2a\x48\x2c\x2e\x2e\xcf\x2f\x4a\x51\xb2\x52\xca\x28\xcd\x2b\x49\x2d\x32\x52\xd2\x51\xca\x2c\x49\xcd\x2d\x56\xb2\x8a\x36\xd4\x31\xd2\x31\x8e\xd5\x51\x2a\xc9\xcf\x4e\xcd\x03\xaa\x48\x4c\x4a\x56\xaa\x05\x00\x35\x90\xc8\x3e\x34\x00\x00\x00";

/// (file name, input).
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let gzip_post = [
        b"POST /login?token=t HTTP/1.1\r\nContent-Type: application/json\r\n".as_slice(),
        b"Content-Encoding: gzip\r\nAuthorization: Bearer x\r\nContent-Length: 71\r\n\r\n",
        GZIP_JSON,
    ]
    .concat();
    let gzip_reply = [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n".as_slice(),
        b"Content-Encoding: gzip\r\nSet-Cookie: s=1\r\nTransfer-Encoding: chunked\r\n\r\n47\r\n",
        GZIP_JSON,
        b"\r\n0\r\n\r\n",
    ]
    .concat();
    vec![
        (
            "gzip_json",
            Encoder::new(SERVER)
                .ingress(&gzip_post)
                .egress(&gzip_reply)
                .close(false),
        ),
        (
            "keep_alive",
            Encoder::new(CLIENT)
                .egress(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
                .wait(1)
                .ingress(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
                .egress(b"POST /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz")
                .wait(2)
                .ingress(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
                .close(false),
        ),
        (
            "pipelining",
            Encoder::new(SERVER)
                .ingress(b"GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n")
                .egress(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none")
                .egress(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n")
                .egress(b"HTTP/1.1 304 Not Modified\r\n\r\n")
                .finish(),
        ),
        (
            "chunked_trailers",
            Encoder::new(CLIENT)
                .egress(b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n")
                .ingress(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwi")
                .ingress(b"ki\r\n5;e=1\r\npedia\r\n0\r\nX-T: 1\r\n\r\n")
                .egress(b"POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
                .ingress(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
                .close(false),
        ),
        (
            "continue_100",
            Encoder::new(CLIENT)
                .egress(b"PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
                .ingress(b"HTTP/1.1 100 Continue\r\n\r\n")
                .egress(b"data")
                .ingress(b"HTTP/1.1 204 No Content\r\n\r\n")
                .egress(b"GET /after HTTP/1.1\r\n\r\n")
                .ingress(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
                .close(false),
        ),
        (
            "smuggling_cl_te",
            Encoder::new(SERVER)
                .ingress(b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n")
                .egress(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .ingress(b"POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcdeGET /x HTTP/1.1\r\n\r\n")
                .egress(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .close(true),
        ),
        (
            "gap_and_resync",
            Encoder::new(OLD_UNKNOWN)
                .egress(b"ly the tail of a body\r\n")
                .ingress(b"tail of a response\r\nHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
                .gap(Direction::Ingress, 6)
                .ingress(b"ij")
                .egress(b"GET /next HTTP/1.1\r\n\r\n")
                .ingress(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .finish(),
        ),
        (
            "timeout_and_limits",
            Encoder::new(CLIENT)
                .egress(b"POST /big HTTP/1.1\r\nContent-Length: 600\r\n\r\n")
                .egress(&[b'b'; 600])
                .wait(31)
                .tick()
                .wait(31)
                .tick()
                .ingress(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .egress(b"GET / HTTP/1.1\r\nX-Filler: ")
                .egress(&[b'f'; 1100])
                .egress(b"\r\n\r\nGET /ok HTTP/1.1\r\n\r\n")
                .ingress(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .finish(),
        ),
        (
            "conformance",
            Encoder::new(CLIENT)
                .egress(b"\r\nM-SEARCH * HTTP/1.2\r\nHost: x\r\n\r\n\r\n")
                .ingress(b"\r\nHTTP/1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .ingress(b"2 ;a=\"b\r\nok\r\n2;\r\nok\r\n1\r;x\r\n!\r\n0\r\nbad\r\n\r\n\r\n")
                .egress(b"GET /caf\xe9 HTTP/1.1\r\nConnection: close\r\n\r\nGET /admin HTTP/1.1\r\n\r\n")
                .ingress(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .finish(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::{fs, path::PathBuf};

    use monitor::transaction::{Flag, Outcome};

    use super::seeds;
    use crate::drive;

    fn corpus_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/http1_stream")
    }

    #[test]
    fn corpus_files_are_the_seeds() {
        let dir = corpus_dir();
        let update = std::env::var_os("UPDATE_CORPUS").is_some();
        for (name, bytes) in seeds() {
            let path = dir.join(name);
            if update {
                fs::create_dir_all(&dir).unwrap();
                fs::write(&path, &bytes).unwrap();
            }
            let on_disk = fs::read(&path).unwrap_or_default();
            assert!(
                on_disk == bytes,
                "{} is stale: run `UPDATE_CORPUS=1 cargo test` in monitor/fuzz",
                path.display()
            );
        }
    }

    fn outcomes(name: &str) -> Vec<Outcome> {
        let (_, input) = seeds().into_iter().find(|(n, _)| *n == name).unwrap();
        drive::run(&input).iter().map(|t| t.outcome).collect()
    }

    /// Each seed reaches the behaviour it is named for, so the fuzzer starts from there.
    #[test]
    fn seeds_parse_as_intended() {
        use Outcome::*;
        assert_eq!(outcomes("gzip_json"), [Complete]);
        assert_eq!(outcomes("keep_alive"), [Complete, Complete]);
        assert_eq!(outcomes("pipelining"), [Complete, Complete, Complete]);
        assert_eq!(outcomes("chunked_trailers"), [Complete, Complete]);
        assert_eq!(outcomes("continue_100"), [Complete, Complete]);
        assert_eq!(outcomes("gap_and_resync"), [RequestNotCaptured, Complete]);
        assert_eq!(outcomes("conformance"), [Complete, Malformed, Complete]);

        let (_, input) = seeds()
            .into_iter()
            .find(|(n, _)| *n == "smuggling_cl_te")
            .unwrap();
        let out = drive::run(&input);
        assert!(
            out[0]
                .flags
                .contains(Flag::ContentLengthWithTransferEncoding)
        );
        assert!(out[1].flags.contains(Flag::ConflictingContentLength));

        let (_, input) = seeds()
            .into_iter()
            .find(|(n, _)| *n == "timeout_and_limits")
            .unwrap();
        let out = drive::run(&input);
        let first = out[0].request.as_ref().unwrap();
        assert_eq!(first.body.size, 600);
        assert_eq!(first.body.captured.len(), drive::config().max_body_bytes);
        assert_eq!(out[0].outcome, NoResponse);
        assert!(out.iter().any(|t| t.flags.contains(Flag::HeaderTooLarge)));
    }
}
