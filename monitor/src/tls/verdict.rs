//! Decides, from what a file holds, which TLS library it is and whether the monitor can cover it:
//! pure rules over [`ElfInfo`], so they are tested without processes.

use std::{collections::BTreeMap, fmt};

use object::Architecture;
use serde::{Serialize, Serializer, ser::SerializeStruct};

use super::{
    elf::{ElfInfo, SymbolLocation},
    library::{TlsLibrary, UnsupportedLibrary},
};

/// Whether the monitor can capture the plaintext passing through a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Coverage {
    Hookable,
    NotCoverable(Uncovered),
}

/// Why a TLS user cannot be covered. `name()` is stable (for metrics and JSON); Display is for
/// people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uncovered {
    /// A TLS library lacking required hook functions (named).
    MissingSymbols(Vec<&'static str>),
    /// A Go program using crypto/tls whose symbol table was stripped.
    StrippedGo,
    /// A Go program older than the register ABI the Go probes read arguments with, or whose
    /// version could not be read (the version when known).
    UnknownGoVersion(Option<String>),
    /// A TLS library the monitor has no probes for.
    UnsupportedLibrary(UnsupportedLibrary),
}

impl Uncovered {
    pub fn name(&self) -> &'static str {
        match self {
            Self::MissingSymbols(_) => "missing_symbols",
            Self::StrippedGo => "stripped_go",
            Self::UnknownGoVersion(_) => "unknown_go_version",
            Self::UnsupportedLibrary(_) => "unsupported_library",
        }
    }
}

impl fmt::Display for Uncovered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingSymbols(names) => {
                write!(f, "the library does not define {}", names.join(", "))
            }
            Self::StrippedGo => f.write_str(
                "Go program without a symbol table: its crypto/tls functions cannot be located",
            ),
            Self::UnknownGoVersion(Some(v)) => write!(
                f,
                "Go version {v} predates the register calling convention the Go probes read"
            ),
            Self::UnknownGoVersion(None) => f.write_str(
                "the Go version is unreadable, so the calling convention cannot be known",
            ),
            Self::UnsupportedLibrary(lib) => write!(
                f,
                "{} is a TLS library the monitor has no probes for: its traffic is not captured",
                lib.name()
            ),
        }
    }
}

impl Serialize for Uncovered {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Uncovered", 2)?;
        st.serialize_field("reason", self.name())?;
        st.serialize_field("detail", &self.to_string())?;
        st.end()
    }
}

/// What one file is and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `None` for a library the monitor does not support (named in the coverage).
    pub library: Option<TlsLibrary>,
    pub version: Option<String>,
    /// The hook functions found, name → location.
    pub symbols: BTreeMap<&'static str, SymbolLocation>,
    pub coverage: Coverage,
}

/// A shared libssl: OpenSSL or BoringSSL, by their markers.
pub fn libssl(info: &ElfInfo) -> Verdict {
    let library = if info.is_boringssl() {
        TlsLibrary::BoringSsl
    } else {
        TlsLibrary::OpenSsl
    };
    hook_functions(library, info)
}

/// A shared libgnutls.
pub fn gnutls(info: &ElfInfo) -> Verdict {
    hook_functions(TlsLibrary::GnuTls, info)
}

/// A library recognised by name that the monitor cannot hook; its contents do not matter.
pub fn unsupported(library: UnsupportedLibrary) -> Verdict {
    Verdict {
        library: None,
        version: None,
        symbols: BTreeMap::new(),
        coverage: Coverage::NotCoverable(Uncovered::UnsupportedLibrary(library)),
    }
}

/// A process's executable: a TLS user if it carries OpenSSL/BoringSSL (node links it
/// statically) or GnuTLS itself, or is a Go program using crypto/tls. `None` otherwise.
pub fn executable(info: &ElfInfo) -> Option<Verdict> {
    if let Some(go) = &info.go {
        let has_tls_symbol = info.has("crypto/tls.(*Conn).Write");
        if !has_tls_symbol && !info.has_symtab && go.tls_in_pclntab {
            return Some(Verdict {
                library: Some(TlsLibrary::Go),
                version: go.version.clone(),
                symbols: BTreeMap::new(),
                coverage: Coverage::NotCoverable(Uncovered::StrippedGo),
            });
        }
        if !has_tls_symbol {
            return None;
        }
        let mut verdict = hook_functions(TlsLibrary::Go, info);
        if verdict.coverage == Coverage::Hookable && !go_has_register_abi(info) {
            verdict.coverage =
                Coverage::NotCoverable(Uncovered::UnknownGoVersion(go.version.clone()));
        }
        return Some(verdict);
    }
    if info.has("SSL_write") {
        return Some(libssl(info));
    }
    if info.has("gnutls_record_send") {
        return Some(gnutls(info));
    }
    None
}

fn hook_functions(library: TlsLibrary, info: &ElfInfo) -> Verdict {
    let functions = library.functions();
    let symbols: BTreeMap<_, _> = functions
        .iter()
        .filter_map(|f| Some((f.name, *info.symbols.get(f.name)?)))
        .collect();
    let missing: Vec<&'static str> = functions
        .iter()
        .filter(|f| f.required && !symbols.contains_key(f.name))
        .map(|f| f.name)
        .collect();
    let coverage = if missing.is_empty() {
        Coverage::Hookable
    } else {
        Coverage::NotCoverable(Uncovered::MissingSymbols(missing))
    };
    Verdict {
        library: Some(library),
        version: version(library, info),
        symbols,
        coverage,
    }
}

fn version(library: TlsLibrary, info: &ElfInfo) -> Option<String> {
    match library {
        // The soname names the ABI series (`libssl.so.3` → 3, `libssl.so.1.1` → 1.1), which is
        // what probe layouts depend on; the version text is the fallback for static copies.
        TlsLibrary::OpenSsl => info
            .soname
            .as_deref()
            .and_then(|s| s.strip_prefix("libssl.so."))
            .map(str::to_owned)
            .or_else(|| info.openssl_version_text.clone()),
        TlsLibrary::Go => info.go.as_ref().and_then(|g| g.version.clone()),
        // BoringSSL has no releases; GnuTLS's soname number is not its version.
        TlsLibrary::BoringSsl | TlsLibrary::GnuTls => None,
    }
}

/// Go passes arguments in registers since 1.17 on amd64 and 1.18 on arm64; the Go probes read
/// them there, so older programs (or an unreadable version) cannot be covered.
fn go_has_register_abi(info: &ElfInfo) -> bool {
    let first_minor = match info.architecture {
        Architecture::X86_64 => 17,
        Architecture::Aarch64 | Architecture::PowerPc64 => 18,
        Architecture::Riscv64 => 19,
        _ => return false,
    };
    info.go
        .as_ref()
        .and_then(|g| g.version.as_deref())
        .and_then(go_minor)
        .is_some_and(|minor| minor >= first_minor)
}

/// 21 from `go1.21.5`, `go1.21rc2` or `devel go1.21-abcdef`.
pub fn go_minor(version: &str) -> Option<u32> {
    let rest = &version[version.find("go1.")? + 4..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::elf::{self, GoBuild};
    use std::path::Path;

    fn info(path: &str) -> ElfInfo {
        elf::inspect(Path::new(path)).unwrap()
    }

    #[test]
    fn openssl_3_shared() {
        let v = libssl(&info("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
        assert_eq!(v.library, Some(TlsLibrary::OpenSsl));
        assert_eq!(v.version.as_deref(), Some("3"));
        assert_eq!(v.coverage, Coverage::Hookable);
        // The four data calls and the three handshakes.
        assert_eq!(v.symbols.len(), 7);
    }

    #[test]
    fn gnutls_shared() {
        let v = gnutls(&info("/usr/lib/x86_64-linux-gnu/libgnutls.so.30"));
        assert_eq!(v.library, Some(TlsLibrary::GnuTls));
        assert_eq!(v.coverage, Coverage::Hookable);
        assert_eq!(
            v.symbols.keys().copied().collect::<Vec<_>>(),
            [
                "gnutls_handshake",
                "gnutls_record_recv",
                "gnutls_record_send"
            ]
        );
    }

    /// A file that calls itself libssl but does not define the API (here: GnuTLS's library).
    #[test]
    fn libssl_without_ssl_write_is_missing_symbols() {
        let v = libssl(&info("/usr/lib/x86_64-linux-gnu/libgnutls.so.30"));
        let Coverage::NotCoverable(reason) = v.coverage else {
            panic!("{v:?}")
        };
        assert_eq!(reason.name(), "missing_symbols");
        assert_eq!(
            reason,
            Uncovered::MissingSymbols(vec!["SSL_write", "SSL_read"])
        );
        assert!(reason.to_string().contains("SSL_write, SSL_read"));
    }

    #[test]
    fn node_executable_is_static_openssl() {
        let v = executable(&info("/usr/bin/node")).unwrap();
        assert_eq!(v.library, Some(TlsLibrary::OpenSsl));
        assert_eq!(v.coverage, Coverage::Hookable);
        assert!(v.version.unwrap().starts_with("3."));
        assert_eq!(v.symbols.len(), 7);
    }

    #[test]
    fn non_tls_executables() {
        assert_eq!(executable(&info("/bin/ls")), None);
        // Go, but no crypto/tls.
        assert_eq!(executable(&info("/usr/bin/gofmt")), None);
        // The openssl command imports SSL_write from libssl.so.3; the library is the finding.
        if Path::new("/usr/bin/openssl").exists() {
            assert_eq!(executable(&info("/usr/bin/openssl")), None);
        }
    }

    #[test]
    fn stripped_go_with_tls() {
        let v = executable(&info("/usr/bin/hey")).unwrap();
        assert_eq!(v.library, Some(TlsLibrary::Go));
        assert_eq!(v.coverage, Coverage::NotCoverable(Uncovered::StrippedGo));
        assert!(v.version.unwrap().starts_with("go1."));
    }

    /// Go rules over an ElfInfo built by hand: no Go binary with symbols is installed here.
    #[test]
    fn go_register_abi_rules() {
        let loc = SymbolLocation { offset: 1, size: 1 };
        let go = |version: Option<&str>, arch| ElfInfo {
            architecture: arch,
            symbols: [
                ("crypto/tls.(*Conn).Write", loc),
                ("crypto/tls.(*Conn).Read", loc),
                ("runtime.main", loc),
            ]
            .into(),
            has_symtab: true,
            soname: None,
            go: Some(GoBuild {
                version: version.map(str::to_owned),
                tls_in_pclntab: true,
            }),
            openssl_version_text: None,
        };
        let verdict = |v, a| executable(&go(v, a)).unwrap().coverage;
        assert_eq!(
            verdict(Some("go1.21.5"), Architecture::X86_64),
            Coverage::Hookable
        );
        assert_eq!(
            verdict(Some("go1.17"), Architecture::X86_64),
            Coverage::Hookable
        );
        assert_eq!(
            verdict(Some("go1.17.3"), Architecture::Aarch64),
            Coverage::NotCoverable(Uncovered::UnknownGoVersion(Some("go1.17.3".into())))
        );
        assert_eq!(
            verdict(None, Architecture::X86_64),
            Coverage::NotCoverable(Uncovered::UnknownGoVersion(None))
        );
        let mut no_read = go(Some("go1.22.0"), Architecture::X86_64);
        no_read.symbols.remove("crypto/tls.(*Conn).Read");
        assert_eq!(
            executable(&no_read).unwrap().coverage,
            Coverage::NotCoverable(Uncovered::MissingSymbols(vec!["crypto/tls.(*Conn).Read"]))
        );
    }

    #[test]
    fn go_minor_versions() {
        assert_eq!(go_minor("go1.21.5"), Some(21));
        assert_eq!(go_minor("go1.21rc2"), Some(21));
        assert_eq!(go_minor("devel go1.23-abcdef Tue"), Some(23));
        assert_eq!(go_minor("weird"), None);
    }

    #[test]
    fn uncovered_serializes_name_and_text() {
        let c = Coverage::NotCoverable(Uncovered::UnsupportedLibrary(UnsupportedLibrary::Nss));
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["verdict"], "not_coverable");
        assert_eq!(json["reason"], "unsupported_library");
        assert!(json["detail"].as_str().unwrap().starts_with("nss "));
        let json = serde_json::to_value(Coverage::Hookable).unwrap();
        assert_eq!(json, serde_json::json!({"verdict": "hookable"}));
    }
}
