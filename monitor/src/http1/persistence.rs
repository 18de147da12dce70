//! Whether a message is the last its sender may send on its connection (RFC 9112 §9.3, §9.6):
//! after it, more bytes from that sender are not a new message but an anomaly.

use super::head::Head;
use crate::transaction::Headers;

/// A final message: one with the "close" connection option, or an HTTP/1.0 one without
/// "keep-alive". Interim (1xx) responses are never final: the final response follows them.
pub fn is_final(head: &Head) -> bool {
    let (version, headers) = match head {
        Head::Request(r) => (r.version, &r.headers),
        Head::Response(r) if (100..200).contains(&r.status) => return false,
        Head::Response(r) => (r.version, &r.headers),
    };
    let (close, keep_alive) = options(headers);
    close || (version == "1.0" && !keep_alive)
}

/// Whether the Connection fields (a comma-separated list of options in any case, RFC 9110
/// §7.6.1) name "close" and "keep-alive".
fn options(headers: &Headers) -> (bool, bool) {
    let (mut close, mut keep_alive) = (false, false);
    for value in headers.get_all("connection") {
        for option in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            close |= option.eq_ignore_ascii_case(b"close");
            keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
        }
    }
    (close, keep_alive)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http1::head::{RequestHead, ResponseHead};

    fn request(version: &'static str, connection: &[&str]) -> Head {
        let mut headers = Headers::default();
        for c in connection {
            headers.push("Connection", c.as_bytes());
        }
        Head::Request(RequestHead {
            method: "GET".into(),
            target: "/".into(),
            version,
            headers,
        })
    }

    #[test]
    fn final_requests() {
        assert!(!is_final(&request("1.1", &[])));
        assert!(is_final(&request("1.1", &["close"])));
        assert!(is_final(&request("1.1", &["Upgrade, Close"])));
        assert!(is_final(&request("1.1", &["keep-alive", "close"])));
        assert!(is_final(&request("1.0", &[])));
        assert!(!is_final(&request("1.0", &["Keep-Alive"])));
        assert!(!is_final(&request("1.1", &["closed"])));
    }

    #[test]
    fn interim_responses_are_not_final() {
        let mut headers = Headers::default();
        headers.push("Connection", b"close");
        let response = |status| {
            Head::Response(ResponseHead {
                status,
                reason: "".into(),
                version: "1.1",
                headers: headers.clone(),
            })
        };
        assert!(!is_final(&response(100)));
        assert!(is_final(&response(200)));
    }
}
