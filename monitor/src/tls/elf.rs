//! Reads what TLS discovery needs from one ELF file: uprobe file offsets of the hook functions,
//! library markers, the soname, and Go build facts. Read-only; the file is mapped, not copied.

use std::{
    collections::BTreeMap,
    fs::File,
    io,
    path::{Path, PathBuf},
};

use memchr::memmem;
use object::{
    Architecture, Object, ObjectKind, ObjectSection, ObjectSymbol, SectionKind,
    elf::DT_SONAME,
    read::elf::{Dyn, ElfFile, FileHeader},
};
use serde::Serialize;

use super::library::{self, BORINGSSL_MARKERS, GO_RUNTIME_MAIN};

/// Where a function lives in its file, in the terms a uprobe is attached with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SymbolLocation {
    /// Offset in the file (not the virtual address), as aya computes it for a uprobe.
    pub offset: u64,
    pub size: u64,
}

/// Facts about a Go binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoBuild {
    /// e.g. `go1.21.5`, from `.go.buildinfo` (Go 1.18 and later only; older layouts hold pointers).
    pub version: Option<String>,
    /// crypto/tls's `(*Conn).Write` is named in `.gopclntab`, which survives `strip`: the program
    /// uses TLS even when the symbol table is gone.
    pub tls_in_pclntab: bool,
}

/// What one ELF file holds that matters for TLS discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    pub architecture: Architecture,
    /// The wanted symbols ([`library::interesting_symbols`]) that this file defines.
    pub symbols: BTreeMap<&'static str, SymbolLocation>,
    /// A non-empty `.symtab` (strip removes it; `.dynsym` stays).
    pub has_symtab: bool,
    pub soname: Option<String>,
    pub go: Option<GoBuild>,
    /// `3.0.19` from an `OpenSSL 3.0.19 ...` string in read-only data; looked for only in files
    /// that define `SSL_write`, as the text lives beside OpenSSL's code.
    pub openssl_version_text: Option<String>,
}

impl ElfInfo {
    pub fn has(&self, name: &str) -> bool {
        self.symbols.contains_key(name)
    }

    pub fn is_boringssl(&self) -> bool {
        BORINGSSL_MARKERS.iter().any(|m| self.has(m))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot map {path} into memory: {source}")]
    Map { path: PathBuf, source: io::Error },
    #[error("{path} is not a readable ELF file: {source}")]
    Parse {
        path: PathBuf,
        source: object::read::Error,
    },
}

impl ElfError {
    /// The I/O error behind this one, if any (to tell a vanished file from a bad one).
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            Self::Open { source, .. } | Self::Map { source, .. } => Some(source),
            Self::Parse { .. } => None,
        }
    }
}

/// Opens, maps and inspects the file at `path`.
pub fn inspect(path: &Path) -> Result<ElfInfo, ElfError> {
    let file = File::open(path).map_err(|source| ElfError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    inspect_file(&file, path)
}

/// Maps and inspects an open file; `path` only names it in errors. Taking the open file lets a
/// caller `fstat` the very file it inspects.
pub fn inspect_file(file: &File, path: &Path) -> Result<ElfInfo, ElfError> {
    // SAFETY: the mapping is private and read-only, so we never write through it. Another process
    // truncating the file while mapped would fault us (SIGBUS); libraries and executables are
    // replaced by rename on upgrade rather than rewritten in place, and aya maps them the same way.
    let map = unsafe { memmap2::Mmap::map(file) }.map_err(|source| ElfError::Map {
        path: path.to_path_buf(),
        source,
    })?;
    inspect_bytes(&map).map_err(|source| ElfError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Inspects an ELF image held in memory.
pub fn inspect_bytes(data: &[u8]) -> Result<ElfInfo, object::read::Error> {
    let obj = object::File::parse(data)?;
    let symbols = find_symbols(&obj);
    let has_symtab = obj.symbols().next().is_some();
    let soname = match &obj {
        object::File::Elf64(elf) => soname(elf),
        object::File::Elf32(elf) => soname(elf),
        _ => None,
    };
    let go = go_build(&obj, &symbols);
    let openssl_version_text = if symbols.contains_key("SSL_write") {
        rodata_openssl_version(&obj)
    } else {
        None
    };
    Ok(ElfInfo {
        architecture: obj.architecture(),
        symbols,
        has_symtab,
        soname,
        go,
        openssl_version_text,
    })
}

/// Looks in `.dynsym` then `.symtab`, as aya does, but keeps only definitions: a program that
/// imports `SSL_write` from libssl lists it undefined, and that is not a place to attach.
fn find_symbols(obj: &object::File<'_>) -> BTreeMap<&'static str, SymbolLocation> {
    let wanted: Vec<&'static str> = library::interesting_symbols().collect();
    let mut found = BTreeMap::new();
    for sym in obj.dynamic_symbols().chain(obj.symbols()) {
        let Ok(name) = sym.name_bytes() else { continue };
        let Some(&key) = wanted.iter().find(|w| w.as_bytes() == name) else {
            continue;
        };
        if found.contains_key(key) || !sym.is_definition() {
            continue;
        }
        if let Some(offset) = file_offset(obj, &sym) {
            found.insert(
                key,
                SymbolLocation {
                    offset,
                    size: sym.size(),
                },
            );
        }
    }
    found
}

/// aya's `symbol_translated_address`: in executables and shared objects a symbol's value is a
/// virtual address, and uprobes want the offset in the file, found through its section.
fn file_offset(obj: &object::File<'_>, sym: &object::Symbol<'_, '_>) -> Option<u64> {
    if !matches!(obj.kind(), ObjectKind::Dynamic | ObjectKind::Executable) {
        return Some(sym.address());
    }
    let section = obj.section_by_index(sym.section_index()?).ok()?;
    let (offset, _) = section.file_range()?;
    Some(sym.address().checked_sub(section.address())? + offset)
}

fn soname<Elf: FileHeader<Endian = object::Endianness>>(elf: &ElfFile<'_, Elf>) -> Option<String> {
    let endian = elf.endian();
    let sections = elf.elf_section_table();
    let (entries, strtab) = sections.dynamic(endian, elf.data()).ok()??;
    let strings = sections.strings(endian, elf.data(), strtab).ok()?;
    let entry = entries
        .iter()
        .find(|d| d.tag32(endian) == Some(DT_SONAME as i32))?;
    let name = strings.get(entry.val32(endian)?).ok()?;
    Some(String::from_utf8_lossy(name).into_owned())
}

fn go_build(
    obj: &object::File<'_>,
    symbols: &BTreeMap<&'static str, SymbolLocation>,
) -> Option<GoBuild> {
    let buildinfo = obj.section_by_name(".go.buildinfo");
    if buildinfo.is_none() && !symbols.contains_key(GO_RUNTIME_MAIN) {
        return None;
    }
    let version = buildinfo
        .and_then(|s| s.data().ok())
        .and_then(parse_go_buildinfo);
    let tls_in_pclntab = obj
        .section_by_name(".gopclntab")
        .and_then(|s| s.data().ok())
        .is_some_and(|d| memmem::find(d, b"crypto/tls.(*Conn).Write").is_some());
    Some(GoBuild {
        version,
        tls_in_pclntab,
    })
}

const GO_BUILDINFO_MAGIC: &[u8] = b"\xff Go buildinf:";
/// Flags bit set by Go 1.18+ when the version and module strings follow the header inline.
const GO_BUILDINFO_INLINE: u8 = 0x2;
const GO_BUILDINFO_HEADER: usize = 32;

/// The Go version from a `.go.buildinfo` section: a 32-byte header (magic, pointer size, flags),
/// then, when inline, the version as a uvarint-length-prefixed string.
pub fn parse_go_buildinfo(section: &[u8]) -> Option<String> {
    let start = memmem::find(section, GO_BUILDINFO_MAGIC)?;
    let blob = section.get(start..)?;
    let flags = *blob.get(15)?;
    if flags & GO_BUILDINFO_INLINE == 0 {
        return None;
    }
    let (len, rest) = read_uvarint(blob.get(GO_BUILDINFO_HEADER..)?)?;
    let bytes = rest.get(..usize::try_from(len).ok()?)?;
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

/// Go's `binary.Uvarint`: 7 bits per byte, low first, high bit means more.
fn read_uvarint(data: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, &byte) in data.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, &data[i + 1..]));
        }
    }
    None
}

/// `3.0.19` from the first `OpenSSL <digits>.<digits>.<digits>[letter] ` in read-only data.
fn rodata_openssl_version(obj: &object::File<'_>) -> Option<String> {
    obj.sections()
        .filter(|s| {
            s.kind() == SectionKind::ReadOnlyData || s.kind() == SectionKind::ReadOnlyString
        })
        .filter_map(|s| s.data().ok())
        .find_map(find_openssl_version)
}

pub fn find_openssl_version(data: &[u8]) -> Option<String> {
    const PREFIX: &[u8] = b"OpenSSL ";
    memmem::find_iter(data, PREFIX).find_map(|at| {
        let rest = data.get(at + PREFIX.len()..)?;
        let end = rest
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'.'))?;
        let candidate = std::str::from_utf8(&rest[..end]).ok()?;
        // OPENSSL_VERSION_TEXT is the version, spaces, then the release date: requiring that
        // shape rejects prose such as "OpenSSL 3 provider" or "OpenSSL 1.1.1 API".
        let after = &rest[end..];
        let spaces = after.iter().take_while(|&&b| b == b' ').count();
        let dated = spaces > 0 && after.get(spaces).is_some_and(u8::is_ascii_digit);
        (dated && looks_like_openssl_version(candidate)).then(|| candidate.to_owned())
    })
}

fn looks_like_openssl_version(s: &str) -> bool {
    let numeric = s.trim_end_matches(|c: char| c.is_ascii_lowercase());
    let parts: Vec<&str> = numeric.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && s.len() - numeric.len() <= 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const LIBSSL: &str = "/usr/lib/x86_64-linux-gnu/libssl.so.3";
    const GNUTLS: &str = "/usr/lib/x86_64-linux-gnu/libgnutls.so.30";
    const NODE: &str = "/usr/bin/node";

    /// The file offset of `name` per binutils: symbol value - section address + section offset,
    /// with the section found by the symbol's section index. Independent of `object`.
    fn readelf_offset(path: &str, name: &str) -> u64 {
        let syms = Command::new("readelf")
            .args(["-W", "--dyn-syms", path])
            .output()
            .unwrap();
        let syms = String::from_utf8(syms.stdout).unwrap();
        let (value, ndx) = syms
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|f| {
                f.len() >= 8
                    && f[7].split('@').next() == Some(name)
                    && f[6].bytes().all(|b| b.is_ascii_digit())
            })
            .map(|f| (u64::from_str_radix(f[1], 16).unwrap(), f[6].to_owned()))
            .unwrap();
        let sections = Command::new("readelf")
            .args(["-W", "-S", path])
            .output()
            .unwrap();
        let sections = String::from_utf8(sections.stdout).unwrap();
        let header = format!("[{ndx:>2}]");
        let line = sections.lines().find(|l| l.contains(&header)).unwrap();
        // "  [13] .text PROGBITS <addr> <off> ..." once the bracketed index is cut off.
        let after = &line[line.find(']').unwrap() + 1..];
        let f: Vec<&str> = after.split_whitespace().collect();
        let addr = u64::from_str_radix(f[2], 16).unwrap();
        let off = u64::from_str_radix(f[3], 16).unwrap();
        value - addr + off
    }

    #[test]
    fn libssl3_is_openssl_3_with_all_four_functions() {
        let info = inspect(Path::new(LIBSSL)).unwrap();
        for f in library::OPENSSL_FUNCTIONS {
            let loc = info.symbols[f.name];
            assert_eq!(loc.offset, readelf_offset(LIBSSL, f.name), "{}", f.name);
            assert!(loc.size > 0);
        }
        assert_eq!(info.soname.as_deref(), Some("libssl.so.3"));
        assert!(!info.is_boringssl());
        assert!(info.go.is_none());
        assert!(!info.has(GO_RUNTIME_MAIN));
    }

    #[test]
    fn gnutls_defines_record_send_and_recv() {
        let info = inspect(Path::new(GNUTLS)).unwrap();
        for f in library::GNUTLS_FUNCTIONS {
            assert_eq!(info.symbols[f.name].offset, readelf_offset(GNUTLS, f.name));
        }
        assert!(!info.has("SSL_write"));
        assert_eq!(info.soname.as_deref(), Some("libgnutls.so.30"));
    }

    /// This machine's node (nodejs.org build, not Debian's) links OpenSSL statically and is a
    /// non-PIE executable whose .text address differs from its file offset, so the translation
    /// matters here.
    #[test]
    fn node_has_static_openssl_at_translated_offsets() {
        let info = inspect(Path::new(NODE)).unwrap();
        let ssl_write = info.symbols["SSL_write"];
        assert_eq!(ssl_write.offset, readelf_offset(NODE, "SSL_write"));
        assert!(info.has("SSL_read") && info.has("SSL_write_ex") && info.has("SSL_read_ex"));
        assert!(!info.is_boringssl());
        let out = Command::new(NODE)
            .args(["-p", "process.versions.openssl"])
            .output()
            .unwrap();
        let want = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        assert_eq!(info.openssl_version_text, Some(want));
    }

    #[test]
    fn importing_ssl_write_is_not_defining_it() {
        // The _ssl extension module imports SSL_write from libssl; only definitions count.
        let out = Command::new("python3")
            .args(["-c", "import _ssl; print(_ssl.__file__)"])
            .output()
            .unwrap();
        let path = String::from_utf8(out.stdout).unwrap();
        let info = inspect(Path::new(path.trim())).unwrap();
        assert!(!info.has("SSL_write"));
    }

    #[test]
    fn ls_has_nothing_tls() {
        let info = inspect(Path::new("/bin/ls")).unwrap();
        assert!(info.symbols.is_empty());
        assert!(info.go.is_none());
    }

    #[test]
    fn stripped_go_binary_still_shows_tls_use_and_version() {
        // `hey` is a Go HTTP load generator built with `-s`: no .symtab, but .gopclntab names
        // crypto/tls and .go.buildinfo holds the version.
        let info = inspect(Path::new("/usr/bin/hey")).unwrap();
        assert!(!info.has_symtab);
        let go = info.go.unwrap();
        assert!(go.tls_in_pclntab);
        assert!(go.version.unwrap().starts_with("go1."));
        // gofmt is Go too, without any TLS.
        let gofmt = inspect(Path::new("/usr/bin/gofmt")).unwrap();
        assert!(!gofmt.go.unwrap().tls_in_pclntab);
    }

    #[test]
    fn go_buildinfo_inline_version() {
        let mut blob = GO_BUILDINFO_MAGIC.to_vec();
        blob.push(8); // pointer size
        blob.push(GO_BUILDINFO_INLINE);
        blob.resize(GO_BUILDINFO_HEADER, 0);
        blob.push(8);
        blob.extend_from_slice(b"go1.21.5");
        blob.extend_from_slice(b"\x10path\tfoo");
        let mut section = vec![0u8; 16];
        section.extend_from_slice(&blob);
        assert_eq!(parse_go_buildinfo(&section).as_deref(), Some("go1.21.5"));
        // Pre-1.18 layout (pointers, no inline flag) and truncated data give nothing.
        blob[15] = 0;
        assert_eq!(parse_go_buildinfo(&blob), None);
        assert_eq!(parse_go_buildinfo(&GO_BUILDINFO_MAGIC[..10]), None);
        let mut truncated = blob.clone();
        truncated[15] = GO_BUILDINFO_INLINE;
        truncated.truncate(GO_BUILDINFO_HEADER + 4);
        assert_eq!(parse_go_buildinfo(&truncated), None);
    }

    #[test]
    fn uvarint_multibyte() {
        assert_eq!(read_uvarint(&[0xac, 0x02, 9]), Some((300, &[9u8][..])));
        assert_eq!(read_uvarint(&[0x80]), None);
    }

    #[test]
    fn openssl_version_text() {
        let data = b"xx OpenSSL 3 provider\0OpenSSL 1.1.1 API\0OpenSSL 1.1.1w  11 Sep 2023\0";
        assert_eq!(find_openssl_version(data).as_deref(), Some("1.1.1w"));
        assert_eq!(
            find_openssl_version(b"OpenSSL 3.0.19 27 Jan"),
            Some("3.0.19".into())
        );
        assert_eq!(find_openssl_version(b"OpenSSL 3.0.19"), None);
        assert_eq!(find_openssl_version(b"OpenSSL 3.0.19 API"), None);
        assert_eq!(find_openssl_version(b"OpenSSL 3.0 x"), None);
    }
}
