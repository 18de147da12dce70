//! Where to put uprobes in a Go binary's `crypto/tls`: the file offsets of the entry and of every
//! return instruction of `(*Conn).Write` and `(*Conn).Read`, read from the ELF symbol table and a
//! real x86-64 decode of the function bodies. Pure analysis; attaching is someone else's job.
//!
//! **Why return-instruction uprobes, never uretprobes.** A uretprobe overwrites the return address
//! on the stack with a kernel trampoline. Go grows goroutine stacks by copying them elsewhere and
//! walks every frame's return address while doing so (and for tracebacks and GC); an address that
//! points at no Go function makes the runtime abort the process ("unexpected return pc"), and the
//! kernel's record of the hijacked frame, keyed by stack pointer, no longer matches once the stack
//! has moved. So the monitor attaches an ordinary uprobe at each `RET` of the function: at that
//! point the return values are still in registers (ABIInternal: RAX = n, RBX/RCX = error
//! interface, nil tab means no error) and nothing on the stack is touched.
//!
//! **Why calls are keyed by goroutine (R14), not thread id.** The entry probe must remember the
//! buffer pointer until the matching return probe fires. A `Read` that blocks parks its goroutine;
//! when data arrives, the goroutine may resume on a different OS thread, and meanwhile other
//! goroutines run their own `Read`/`Write` on the original thread. A thread-id key therefore both
//! loses the entry and mixes up calls. R14 holds the current goroutine's `g` pointer for the whole
//! call under ABIInternal (Go ≥ 1.17 on amd64) and one goroutine runs one call at a time, so `g`
//! (combined with the process id) identifies the call. A `g` is reused only after its goroutine
//! exits, by which time its call has returned.

use std::fmt;
use std::path::{Path, PathBuf};

use iced_x86::{Decoder, DecoderOptions, Instruction, Mnemonic};
use object::{Architecture, BinaryFormat, Object, ObjectSection, ObjectSymbol, SymbolKind};

/// ELF symbol of the function whose entry sees the plaintext about to be encrypted.
pub const WRITE_SYMBOL: &str = "crypto/tls.(*Conn).Write";
/// ELF symbol of the function whose returns see the plaintext just decrypted.
pub const READ_SYMBOL: &str = "crypto/tls.(*Conn).Read";

/// A larger body means a corrupt symbol table, not a real `Write`/`Read` (a few KiB each); the
/// bound keeps the decode short whatever the input.
const MAX_FUNCTION_BYTES: u64 = 1 << 20;
/// Longer than any real version string; bounds what a corrupt buildinfo can make us read.
const MAX_VERSION_BYTES: u64 = 256;
/// First Go release whose amd64 calling convention is the register ABI (ABIInternal).
const FIRST_REGISTER_ABI: (u32, u32) = (1, 17);

const BUILDINFO_MAGIC: &[u8] = b"\xff Go buildinf:";
/// Size of the buildinfo header; Go ≥ 1.18 puts the version string right after it.
const BUILDINFO_HEADER_LEN: usize = 32;
/// Flags-byte bit: the blob holds the strings inline (Go ≥ 1.18) rather than pointers to them.
const BUILDINFO_FLAG_INLINE: u8 = 1 << 1;
/// Flags-byte bit: pointers in the (pre-1.18) pointer format are big-endian.
const BUILDINFO_FLAG_BIG_ENDIAN: u8 = 1 << 0;

/// What the monitor needs to hook a Go program's TLS plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoTls {
    pub version: GoVersion,
    pub arch: GoArch,
    /// Probes for [`WRITE_SYMBOL`]; the entry sees the plaintext (RBX = ptr, RCX = len).
    pub write: FunctionProbes,
    /// Probes for [`READ_SYMBOL`]; the entry sees the buffer, the returns how much was filled.
    pub read: FunctionProbes,
}

/// The Go release that built a binary, as its buildinfo states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoVersion {
    /// As written by the toolchain, e.g. `go1.19.8` or `devel go1.23-abc123 ...`.
    pub raw: String,
    pub major: u32,
    pub minor: u32,
}

/// The only architecture whose Go register ABI the eBPF programs know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoArch {
    X86_64,
}

/// Uprobe locations in one function, as file offsets (what `UProbeAttachLocation::AbsoluteOffset`
/// takes; same formula as aya's symbol resolution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionProbes {
    pub symbol: &'static str,
    /// File offset of the first instruction.
    pub entry_offset: u64,
    /// File offsets of every `RET` in the body, ascending; never empty.
    pub return_offsets: Vec<u64>,
}

/// Why a binary's Go TLS functions cannot be hooked. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum GoError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not an ELF file")]
    NotElf { path: PathBuf },
    #[error("{path} is not a Go binary (no Go buildinfo, pclntab or build id)")]
    NotGo { path: PathBuf },
    #[error("{path} is a Go binary for {arch}; only x86-64 is supported")]
    UnsupportedArch { path: PathBuf, arch: String },
    #[error(
        "{path} is a Go binary whose Go version cannot be read, so its calling convention is unknown"
    )]
    UnknownVersion { path: PathBuf },
    #[error(
        "{path} was built with {version}, older than Go 1.17, whose stack-based calling convention is not supported"
    )]
    OldAbi { path: PathBuf, version: GoVersion },
    #[error("{path} is a stripped Go binary (no .symtab), not covered")]
    Stripped { path: PathBuf },
    #[error(
        "{path} is a Go binary that does not link crypto/tls, so it makes no TLS calls to hook"
    )]
    NoCryptoTls { path: PathBuf },
    #[error("{path} links crypto/tls but has no symbol {symbol}")]
    MissingFunction { path: PathBuf, symbol: &'static str },
    #[error(
        "{path}: the body of {symbol} ({size} bytes) is not in the file or is empty or larger than {MAX_FUNCTION_BYTES} bytes"
    )]
    BadFunctionBody {
        path: PathBuf,
        symbol: &'static str,
        size: u64,
    },
    #[error(
        "{path}: {symbol} has bytes at {address:#x} that do not decode as an x86-64 instruction"
    )]
    Undecodable {
        path: PathBuf,
        symbol: &'static str,
        address: u64,
    },
    #[error("{path}: no return instruction found in {symbol}")]
    NoReturn { path: PathBuf, symbol: &'static str },
}

impl fmt::Display for GoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl GoVersion {
    /// Reads `go1.N[.P][suffix]`, also inside `devel go1.N-...`; `None` if there is no `go1.N`.
    pub fn parse(raw: &str) -> Option<Self> {
        let start = raw.find("go")?;
        let rest = &raw[start + 2..];
        let mut numbers = rest.split('.').map(|part| {
            let digits = part.bytes().take_while(u8::is_ascii_digit).count();
            part[..digits].parse::<u32>().ok()
        });
        let major = numbers.next()??;
        let minor = numbers.next().flatten().unwrap_or(0);
        Some(Self {
            raw: raw.to_owned(),
            major,
            minor,
        })
    }

    fn has_register_abi(&self) -> bool {
        (self.major, self.minor) >= FIRST_REGISTER_ABI
    }
}

/// Reads the file at `path` and analyzes it with [`analyze_bytes`].
pub fn analyze(path: &Path) -> Result<GoTls, GoError> {
    let data = std::fs::read(path).map_err(|source| GoError::Io {
        path: path.to_owned(),
        source,
    })?;
    analyze_bytes(path, &data)
}

/// Finds the uprobe locations in the ELF image `data`; `path` only names the file in errors.
pub fn analyze_bytes(path: &Path, data: &[u8]) -> Result<GoTls, GoError> {
    let obj = match object::File::parse(data) {
        Ok(obj) if obj.format() == BinaryFormat::Elf => obj,
        _ => {
            return Err(GoError::NotElf {
                path: path.to_owned(),
            });
        }
    };
    let is_go = [".go.buildinfo", ".gopclntab", ".note.go.buildid"]
        .iter()
        .any(|name| obj.section_by_name(name).is_some());
    if !is_go {
        return Err(GoError::NotGo {
            path: path.to_owned(),
        });
    }
    let arch = match obj.architecture() {
        Architecture::X86_64 => GoArch::X86_64,
        other => {
            return Err(GoError::UnsupportedArch {
                path: path.to_owned(),
                arch: format!("{other:?}"),
            });
        }
    };
    let version = read_version(&obj).ok_or_else(|| GoError::UnknownVersion {
        path: path.to_owned(),
    })?;
    if !version.has_register_abi() {
        return Err(GoError::OldAbi {
            path: path.to_owned(),
            version,
        });
    }
    if obj.symbol_table().is_none() {
        return Err(GoError::Stripped {
            path: path.to_owned(),
        });
    }

    let mut write = None;
    let mut read = None;
    for sym in obj.symbols() {
        if sym.kind() != SymbolKind::Text || sym.is_undefined() {
            continue;
        }
        // Exact names: the ABI0 wrapper (`...Write.abi0`, if the linker kept one) and closures
        // (`...Write.func1`) must not match; only the ABIInternal body has the register layout.
        match sym.name() {
            Ok(WRITE_SYMBOL) if write.is_none() => write = Some(sym),
            Ok(READ_SYMBOL) if read.is_none() => read = Some(sym),
            _ => {}
        }
    }
    let (write, read) = match (write, read) {
        (Some(w), Some(r)) => (w, r),
        (None, None) => {
            return Err(GoError::NoCryptoTls {
                path: path.to_owned(),
            });
        }
        (None, Some(_)) => {
            return Err(GoError::MissingFunction {
                path: path.to_owned(),
                symbol: WRITE_SYMBOL,
            });
        }
        (Some(_), None) => {
            return Err(GoError::MissingFunction {
                path: path.to_owned(),
                symbol: READ_SYMBOL,
            });
        }
    };

    Ok(GoTls {
        version,
        arch,
        write: function_probes(path, &obj, &write, WRITE_SYMBOL)?,
        read: function_probes(path, &obj, &read, READ_SYMBOL)?,
    })
}

/// Entry and return offsets of one function, from a full decode of its body.
fn function_probes(
    path: &Path,
    obj: &object::File<'_>,
    sym: &object::Symbol<'_, '_>,
    symbol: &'static str,
) -> Result<FunctionProbes, GoError> {
    let address = sym.address();
    let size = sym.size();
    let bad_body = || GoError::BadFunctionBody {
        path: path.to_owned(),
        symbol,
        size,
    };
    if size == 0 || size > MAX_FUNCTION_BYTES {
        return Err(bad_body());
    }
    let section = sym
        .section_index()
        .and_then(|index| obj.section_by_index(index).ok())
        .ok_or_else(bad_body)?;
    let (section_offset, _) = section.file_range().ok_or_else(bad_body)?;
    let body = section
        .data_range(address, size)
        .ok()
        .flatten()
        .ok_or_else(bad_body)?;
    // data_range succeeded, so address lies inside the section: the subtraction cannot wrap.
    let to_file_offset = |addr: u64| addr - section.address() + section_offset;

    let return_offsets: Vec<u64> = return_addresses(body, address)
        .map_err(|address| GoError::Undecodable {
            path: path.to_owned(),
            symbol,
            address,
        })?
        .into_iter()
        .map(to_file_offset)
        .collect();
    if return_offsets.is_empty() {
        return Err(GoError::NoReturn {
            path: path.to_owned(),
            symbol,
        });
    }
    Ok(FunctionProbes {
        symbol,
        entry_offset: to_file_offset(address),
        return_offsets,
    })
}

/// Virtual addresses of the `RET` instructions in `body` (which starts at `address`), decoding
/// every instruction so that a 0xC3 byte inside another instruction is never taken for one.
/// `Err` carries the address of the first byte that is not an instruction.
fn return_addresses(body: &[u8], address: u64) -> Result<Vec<u64>, u64> {
    let mut decoder = Decoder::with_ip(64, body, address, DecoderOptions::NONE);
    let mut instruction = Instruction::default();
    let mut returns = Vec::new();
    while decoder.can_decode() {
        decoder.decode_out(&mut instruction);
        // A byte the decoder cannot place means guessing where later instructions start, and a
        // guessed RET is a uprobe in the middle of an instruction: refuse instead.
        if instruction.is_invalid() {
            return Err(instruction.ip());
        }
        if instruction.mnemonic() == Mnemonic::Ret {
            returns.push(instruction.ip());
        }
    }
    Ok(returns)
}

/// The Go version from the `.go.buildinfo` section, in either blob format.
fn read_version(obj: &object::File<'_>) -> Option<GoVersion> {
    let blob = obj.section_by_name(".go.buildinfo")?.data().ok()?;
    let raw = parse_buildinfo_version(blob, |address, len| read_virtual(obj, address, len))?;
    GoVersion::parse(&raw)
}

/// `len` bytes at virtual address `address`, from whichever section holds them in the file.
fn read_virtual<'data>(obj: &object::File<'data>, address: u64, len: u64) -> Option<&'data [u8]> {
    obj.sections()
        .find_map(|section| section.data_range(address, len).ok().flatten())
}

/// The version string of a buildinfo blob. Go ≥ 1.18 stores it inline after the header as a
/// uvarint-prefixed string; Go 1.13–1.17 store a pointer to a Go string header (ptr, len), which
/// `read_memory(address, len)` resolves.
fn parse_buildinfo_version<'a>(
    blob: &'a [u8],
    read_memory: impl Fn(u64, u64) -> Option<&'a [u8]>,
) -> Option<String> {
    if !blob.starts_with(BUILDINFO_MAGIC) || blob.len() < BUILDINFO_HEADER_LEN {
        return None;
    }
    let pointer_size = usize::from(blob[14]);
    let flags = blob[15];
    let bytes = if flags & BUILDINFO_FLAG_INLINE != 0 {
        let (len, used) = read_uvarint(&blob[BUILDINFO_HEADER_LEN..])?;
        if len > MAX_VERSION_BYTES {
            return None;
        }
        let start = BUILDINFO_HEADER_LEN + used;
        blob.get(start..start + usize::try_from(len).ok()?)?
    } else {
        let big_endian = flags & BUILDINFO_FLAG_BIG_ENDIAN != 0;
        let word = |bytes: &[u8]| -> Option<u64> {
            let bytes = bytes.get(..pointer_size)?;
            match (pointer_size, big_endian) {
                (8, false) => Some(u64::from_le_bytes(bytes.try_into().ok()?)),
                (8, true) => Some(u64::from_be_bytes(bytes.try_into().ok()?)),
                (4, false) => Some(u64::from(u32::from_le_bytes(bytes.try_into().ok()?))),
                (4, true) => Some(u64::from(u32::from_be_bytes(bytes.try_into().ok()?))),
                _ => None,
            }
        };
        let header_address = word(blob.get(16..)?)?;
        let header = read_memory(header_address, 2 * pointer_size as u64)?;
        let data_address = word(header)?;
        let len = word(header.get(pointer_size..)?)?;
        if len > MAX_VERSION_BYTES {
            return None;
        }
        read_memory(data_address, len)?
    };
    String::from_utf8(bytes.to_vec()).ok()
}

/// Go's `binary.Uvarint`: the value and how many bytes it took; `None` if cut short or over 64 bits.
fn read_uvarint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        let low = u64::from(byte & 0x7f);
        if i == 9 && byte > 1 {
            return None;
        }
        value |= low << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::OnceLock;

    use object::{Object, ObjectSection};

    use super::*;

    const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/tls/testdata");
    /// Under the cargo target dir (the crate has a build script, so OUT_DIR exists): per worktree,
    /// reused between runs so the Go build cache stays warm, removed by `cargo clean`.
    const WORK_DIR: &str = concat!(env!("OUT_DIR"), "/go-tls-test");

    /// Go programs built once per test run, with the toolchain's `go version` output.
    struct GoBuilds {
        go_version: String,
        client: PathBuf,
        client_stripped: PathBuf,
        plain: PathBuf,
    }

    /// `None` (after printing why) when no Go toolchain is installed.
    fn go_builds() -> Option<&'static GoBuilds> {
        static BUILDS: OnceLock<Option<GoBuilds>> = OnceLock::new();
        BUILDS
            .get_or_init(|| {
                let version = match go(&["version"], Path::new(TESTDATA)) {
                    Some(output) => output,
                    None => {
                        eprintln!(
                            "skipping: no `go` toolchain on PATH (apt-get install golang-go)"
                        );
                        return None;
                    }
                };
                let bin = Path::new(WORK_DIR).join("bin");
                let client_src = Path::new(TESTDATA).join("goclient");
                let build = |src: &Path, out: &str, extra: &[&str]| {
                    let out = bin.join(out);
                    let out_str = out.to_str().expect("utf-8 temp path");
                    let mut args = vec!["build", "-o", out_str];
                    args.extend_from_slice(extra);
                    args.push(".");
                    go(&args, src).expect("go build");
                    out
                };
                Some(GoBuilds {
                    go_version: version,
                    client: build(&client_src, "goclient", &[]),
                    client_stripped: build(&client_src, "goclient-stripped", &["-ldflags=-s -w"]),
                    plain: build(&Path::new(TESTDATA).join("goplain"), "goplain", &[]),
                })
            })
            .as_ref()
    }

    /// Runs `go` offline with caches under WORK_DIR; stdout on success, `None` if `go` is missing,
    /// panics with go's stderr if it ran and failed.
    fn go(args: &[&str], dir: &Path) -> Option<String> {
        let work = Path::new(WORK_DIR);
        let output = Command::new("go")
            .args(args)
            .current_dir(dir)
            .env("GOCACHE", work.join("gocache"))
            .env("GOPATH", work.join("gopath"))
            .env("GOFLAGS", "-mod=mod")
            .env("CGO_ENABLED", "0")
            .env("GO111MODULE", "on")
            // No network: never fetch a module or a newer toolchain.
            .env("GOPROXY", "off")
            .env("GOTOOLCHAIN", "local")
            .env("GOENV", "off")
            .output()
            .ok()?;
        assert!(
            output.status.success(),
            "go {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Some(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Entry address and RET addresses of `symbol` according to `go tool objdump`.
    fn objdump(binary: &Path, symbol: &str) -> (u64, Vec<u64>) {
        // Go regexp, anchored so closures (`Write.func1`) and wrappers do not match.
        let mut escaped = String::new();
        for c in symbol.chars() {
            if ".()*".contains(c) {
                escaped.push('\\');
            }
            escaped.push(c);
        }
        let pattern = format!("^{escaped}$");
        let text = go(
            &[
                "tool",
                "objdump",
                "-s",
                &pattern,
                binary.to_str().expect("utf-8 path"),
            ],
            Path::new(TESTDATA),
        )
        .expect("go is installed");
        let mut entry = None;
        let mut returns = Vec::new();
        for line in text.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let Some(address) = fields.get(1).and_then(|f| f.strip_prefix("0x")) else {
                continue;
            };
            let address = u64::from_str_radix(address, 16).expect("hex address");
            entry.get_or_insert(address);
            if fields.get(3) == Some(&"RET") {
                returns.push(address);
            }
        }
        (entry.expect("objdump printed the function"), returns)
    }

    fn file_offset(data: &[u8], address: u64) -> u64 {
        let obj = object::File::parse(data).expect("ELF");
        let text = obj.section_by_name(".text").expect(".text");
        let (offset, _) = text.file_range().expect("in file");
        address - text.address() + offset
    }

    #[test]
    fn finds_write_and_read_in_a_go_https_client() {
        let Some(builds) = go_builds() else { return };
        let data = std::fs::read(&builds.client).expect("read client");
        let tls = analyze_bytes(&builds.client, &data).expect("analyzable");

        // `go version` prints "go version go1.19.8 linux/amd64".
        let expected = builds
            .go_version
            .split_whitespace()
            .nth(2)
            .expect("version field");
        assert_eq!(tls.version.raw, expected);
        assert_eq!(tls.arch, GoArch::X86_64);

        for probes in [&tls.write, &tls.read] {
            let (entry, returns) = objdump(&builds.client, probes.symbol);
            assert_eq!(
                probes.entry_offset,
                file_offset(&data, entry),
                "{}",
                probes.symbol
            );
            assert!(!returns.is_empty());
            eprintln!("{}: {} returns", probes.symbol, returns.len());
            let expected: Vec<u64> = returns.iter().map(|&a| file_offset(&data, a)).collect();
            assert_eq!(probes.return_offsets, expected, "{}", probes.symbol);
            for &offset in &probes.return_offsets {
                let offset = usize::try_from(offset).expect("fits");
                assert_eq!(data[offset], 0xC3, "{} at {offset:#x}", probes.symbol);
            }
        }
        assert_ne!(tls.write.entry_offset, tls.read.entry_offset);
    }

    #[test]
    fn analyze_reads_the_file() {
        let Some(builds) = go_builds() else { return };
        let data = std::fs::read(&builds.client).expect("read client");
        let from_file = analyze(&builds.client).expect("analyzable");
        assert_eq!(
            from_file,
            analyze_bytes(&builds.client, &data).expect("analyzable")
        );
    }

    #[test]
    fn stripped_go_binary_is_reported_as_stripped() {
        let Some(builds) = go_builds() else { return };
        let err = analyze(&builds.client_stripped).expect_err("stripped");
        assert!(matches!(err, GoError::Stripped { .. }), "{err}");
        assert!(err.to_string().contains("goclient-stripped"), "{err}");
    }

    #[test]
    fn go_program_without_tls_is_not_a_tls_user() {
        let Some(builds) = go_builds() else { return };
        let err = analyze(&builds.plain).expect_err("no crypto/tls");
        assert!(matches!(err, GoError::NoCryptoTls { .. }), "{err}");
    }

    #[test]
    fn non_go_and_non_elf_files_are_told_apart() {
        let ls = Path::new("/bin/ls");
        if ls.exists() {
            let err = analyze(ls).expect_err("not Go");
            assert!(matches!(err, GoError::NotGo { .. }), "{err}");
        }
        let source = Path::new(TESTDATA).join("goclient/main.go");
        let err = analyze(&source).expect_err("not ELF");
        assert!(matches!(err, GoError::NotElf { .. }), "{err}");
        assert!(err.to_string().contains("main.go"), "{err}");
        let missing = Path::new(TESTDATA).join("no-such-file");
        assert!(matches!(analyze(&missing), Err(GoError::Io { .. })));
    }

    #[test]
    fn c3_inside_an_immediate_is_not_a_return() {
        // mov eax, 0xc3c3c3c3; ret
        let body = [0xB8, 0xC3, 0xC3, 0xC3, 0xC3, 0xC3];
        assert_eq!(return_addresses(&body, 0x1000), Ok(vec![0x1005]));
        // ret imm16 counts too; a lone 0x06 (push es) is invalid in 64-bit mode.
        assert_eq!(return_addresses(&[0xC2, 0x08, 0x00], 0), Ok(vec![0]));
        assert_eq!(return_addresses(&[0x90, 0x06], 0x10), Err(0x11));
    }

    #[test]
    fn version_strings() {
        let v = GoVersion::parse("go1.19.8").expect("parses");
        assert_eq!((v.major, v.minor), (1, 19));
        assert!(v.has_register_abi());
        let v = GoVersion::parse("devel go1.23-abc123 Tue Jan 1").expect("parses");
        assert_eq!((v.major, v.minor), (1, 23));
        let v = GoVersion::parse("go1.21rc2").expect("parses");
        assert_eq!((v.major, v.minor), (1, 21));
        assert!(
            !GoVersion::parse("go1.16.15")
                .expect("parses")
                .has_register_abi()
        );
        assert!(
            GoVersion::parse("go1.17")
                .expect("parses")
                .has_register_abi()
        );
        assert!(GoVersion::parse("gopher").is_none());
        assert!(GoVersion::parse("1.19").is_none());
    }

    #[test]
    fn buildinfo_inline_format() {
        let mut blob = BUILDINFO_MAGIC.to_vec();
        blob.extend_from_slice(&[8, BUILDINFO_FLAG_INLINE]);
        blob.resize(BUILDINFO_HEADER_LEN, 0);
        blob.push(8);
        blob.extend_from_slice(b"go1.19.8 trailing");
        assert_eq!(
            parse_buildinfo_version(&blob, |_, _| None).as_deref(),
            Some("go1.19.8")
        );
        blob.truncate(BUILDINFO_HEADER_LEN + 4);
        assert_eq!(parse_buildinfo_version(&blob, |_, _| None), None);
    }

    #[test]
    fn buildinfo_pointer_format_of_go_1_17() {
        // Header points at a string header at 0x2000, which points at the text at 0x3000.
        let mut blob = BUILDINFO_MAGIC.to_vec();
        blob.extend_from_slice(&[8, 0]);
        blob.extend_from_slice(&0x2000u64.to_le_bytes());
        blob.resize(BUILDINFO_HEADER_LEN, 0);
        let mut header = 0x3000u64.to_le_bytes().to_vec();
        header.extend_from_slice(&6u64.to_le_bytes());
        let text = b"go1.17xxxx";
        let memory = |address: u64, len: u64| -> Option<&[u8]> {
            let len = usize::try_from(len).ok()?;
            match address {
                0x2000 => header.get(..len),
                0x3000 => text.get(..len),
                _ => None,
            }
        };
        assert_eq!(
            parse_buildinfo_version(&blob, memory).as_deref(),
            Some("go1.17")
        );
    }

    #[test]
    fn uvarint() {
        assert_eq!(read_uvarint(&[0x08]), Some((8, 1)));
        assert_eq!(read_uvarint(&[0x92, 0x01]), Some((146, 2)));
        assert_eq!(read_uvarint(&[0x80]), None);
        assert_eq!(read_uvarint(&[0xff; 11]), None);
    }
}
