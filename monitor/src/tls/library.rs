//! The TLS libraries the monitor knows: which ones it can hook, the functions to hook in each,
//! and the ones it recognises but cannot cover, named so a report can say what is missed.

use serde::Serialize;

/// A TLS implementation whose plaintext the monitor can capture with uprobes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsLibrary {
    OpenSsl,
    BoringSsl,
    GnuTls,
    Go,
}

impl TlsLibrary {
    /// Stable lowercase name, the same string serde writes.
    pub fn name(self) -> &'static str {
        match self {
            Self::OpenSsl => "openssl",
            Self::BoringSsl => "boringssl",
            Self::GnuTls => "gnutls",
            Self::Go => "go",
        }
    }

    /// The functions to hook in this library.
    pub fn functions(self) -> &'static [HookFunction] {
        match self {
            Self::OpenSsl | Self::BoringSsl => OPENSSL_FUNCTIONS,
            Self::GnuTls => GNUTLS_FUNCTIONS,
            Self::Go => GO_FUNCTIONS,
        }
    }
}

/// One function the attach code puts a uprobe on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookFunction {
    pub name: &'static str,
    /// A library lacking a required function cannot be covered; an optional one only adds paths.
    pub required: bool,
}

const fn required(name: &'static str) -> HookFunction {
    HookFunction {
        name,
        required: true,
    }
}

const fn optional(name: &'static str) -> HookFunction {
    HookFunction {
        name,
        required: false,
    }
}

/// OpenSSL and BoringSSL share this API. The `_ex` variants appeared in OpenSSL 1.1.1 and
/// BoringSSL never had them, so their absence is normal.
pub const OPENSSL_FUNCTIONS: &[HookFunction] = &[
    required("SSL_write"),
    required("SSL_read"),
    optional("SSL_write_ex"),
    optional("SSL_read_ex"),
    // Handshakes move no plaintext, but the records they read may already hold the first
    // request: hooking them ties the session to its socket before that request is read.
    optional("SSL_do_handshake"),
    optional("SSL_connect"),
    optional("SSL_accept"),
];

pub const GNUTLS_FUNCTIONS: &[HookFunction] = &[
    required("gnutls_record_send"),
    required("gnutls_record_recv"),
    optional("gnutls_handshake"),
];

/// Go's crypto/tls methods, as named in the Go symbol table. Go needs more than an entry offset
/// (returns are hooked by instruction analysis, see the Go analysis module); this is what to look up.
pub const GO_FUNCTIONS: &[HookFunction] = &[
    required("crypto/tls.(*Conn).Write"),
    required("crypto/tls.(*Conn).Read"),
];

/// Symbols only BoringSSL defines, to tell it from OpenSSL (both export the same `SSL_*` API).
/// Absent OpenSSL markers (`OpenSSL_version_num`, `OPENSSL_version_major`) prove nothing for a
/// shared libssl, as those live in libcrypto; so we look for positive BoringSSL-only names, one per
/// half: `SSL_CTX_set_strict_cipher_list` is in BoringSSL's libssl (a shared libssl carries it),
/// `BORINGSSL_self_test` in its libcrypto (a static build such as Envoy's carries it even when the
/// linker dropped unused SSL functions). OpenSSL has never defined either.
pub const BORINGSSL_MARKERS: &[&str] = &["SSL_CTX_set_strict_cipher_list", "BORINGSSL_self_test"];

/// Present in every Go program: tells a Go binary whose `.go.buildinfo` section was removed.
pub const GO_RUNTIME_MAIN: &str = "runtime.main";

/// Every symbol name the ELF inspection looks up: hook targets and library markers.
pub fn interesting_symbols() -> impl Iterator<Item = &'static str> {
    OPENSSL_FUNCTIONS
        .iter()
        .chain(GNUTLS_FUNCTIONS)
        .chain(GO_FUNCTIONS)
        .map(|f| f.name)
        .chain(BORINGSSL_MARKERS.iter().copied())
        .chain([GO_RUNTIME_MAIN])
}

/// TLS libraries recognised in a process but not hooked: traffic through them is not seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnsupportedLibrary {
    Nss,
    MbedTls,
    WolfSsl,
    BearSsl,
    Rustls,
}

impl UnsupportedLibrary {
    pub fn name(self) -> &'static str {
        match self {
            Self::Nss => "nss",
            Self::MbedTls => "mbedtls",
            Self::WolfSsl => "wolfssl",
            Self::BearSsl => "bearssl",
            Self::Rustls => "rustls",
        }
    }
}

/// What a mapped file's name says it is, before its contents are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedLibrary {
    /// libssl: OpenSSL or BoringSSL, told apart by the symbols inside.
    LibSsl,
    GnuTls,
    Unsupported(UnsupportedLibrary),
}

/// Recognises a TLS library by the basename of a mapped file (e.g. `libssl.so.3`).
pub fn classify_basename(basename: &str) -> Option<NamedLibrary> {
    // NSS ships its own `libssl3.so`; it must be checked before the OpenSSL `libssl` rules, which
    // it does not match anyway (no `.so`/`-` right after `libssl`), but the order makes that plain.
    if basename.starts_with("libnss3.so") || basename.starts_with("libssl3.so") {
        return Some(NamedLibrary::Unsupported(UnsupportedLibrary::Nss));
    }
    if basename.starts_with("libssl.so") || is_versioned_so(basename, "libssl-") {
        return Some(NamedLibrary::LibSsl);
    }
    // Only the core library: libgnutls-dane, libgnutls-openssl (an OpenSSL-compatible shim over
    // GnuTLS, which would be counted twice) and libgnutlsxx (C++ wrapper) do not start with this.
    if basename.starts_with("libgnutls.so") {
        return Some(NamedLibrary::GnuTls);
    }
    let unsupported = [
        ("libmbedtls", UnsupportedLibrary::MbedTls),
        ("libwolfssl", UnsupportedLibrary::WolfSsl),
        ("libbearssl", UnsupportedLibrary::BearSsl),
        ("librustls", UnsupportedLibrary::Rustls),
    ];
    unsupported
        .iter()
        .find(|(prefix, _)| is_versioned_so(basename, prefix))
        .map(|(_, lib)| NamedLibrary::Unsupported(*lib))
}

/// `prefix` then anything, then a `.so` (optionally followed by a version): `libssl-abc123.so.1.1`.
fn is_versioned_so(basename: &str, prefix: &str) -> bool {
    basename
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.contains(".so"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_serde() {
        for lib in [
            TlsLibrary::OpenSsl,
            TlsLibrary::BoringSsl,
            TlsLibrary::GnuTls,
            TlsLibrary::Go,
        ] {
            let json = serde_json::to_string(&lib).unwrap();
            assert_eq!(json, format!("\"{}\"", lib.name()));
        }
    }

    #[test]
    fn basenames() {
        use NamedLibrary::*;
        let cases = [
            ("libssl.so.3", Some(LibSsl)),
            ("libssl.so.1.1", Some(LibSsl)),
            ("libssl.so", Some(LibSsl)),
            ("libssl-8a1b2c.so.1.1", Some(LibSsl)),
            ("libssl3.so", Some(Unsupported(UnsupportedLibrary::Nss))),
            ("libnss3.so", Some(Unsupported(UnsupportedLibrary::Nss))),
            ("libgnutls.so.30", Some(GnuTls)),
            ("libgnutls.so.30.34.3", Some(GnuTls)),
            ("libgnutls-dane.so.0", None),
            ("libgnutls-openssl.so.27", None),
            ("libgnutlsxx.so.30", None),
            (
                "libmbedtls.so.14",
                Some(Unsupported(UnsupportedLibrary::MbedTls)),
            ),
            (
                "libwolfssl.so.35",
                Some(Unsupported(UnsupportedLibrary::WolfSsl)),
            ),
            (
                "libbearssl.so.0",
                Some(Unsupported(UnsupportedLibrary::BearSsl)),
            ),
            (
                "librustls.so",
                Some(Unsupported(UnsupportedLibrary::Rustls)),
            ),
            ("libcrypto.so.3", None),
            ("libc.so.6", None),
            ("libsslfoo", None),
        ];
        for (name, want) in cases {
            assert_eq!(classify_basename(name), want, "{name}");
        }
    }

    #[test]
    fn ex_functions_are_optional() {
        let required: Vec<_> = OPENSSL_FUNCTIONS
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        assert_eq!(required, ["SSL_write", "SSL_read"]);
    }
}
