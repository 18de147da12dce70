//! Parses `/proc/PID/maps` into the distinct files a process maps, and turns a path as the process
//! sees it into one the monitor can open from its own mount namespace.

use std::path::{Path, PathBuf};

/// One file mapped by a process (all its mappings folded into one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedFile {
    /// As the process sees it, without the ` (deleted)` suffix.
    pub path: String,
    /// Device (major, minor) and inode of the mapped file as the kernel reports them.
    pub dev: (u32, u32),
    pub inode: u64,
    /// The file was unlinked (typically a library replaced by an upgrade while in use): its path
    /// no longer names it, but [`map_files_path`] still opens it.
    pub deleted: bool,
    /// The first mapping's address range, which names it under `/proc/PID/map_files/`.
    pub range: (u64, u64),
}

impl MappedFile {
    pub fn basename(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

const DELETED_SUFFIX: &str = " (deleted)";

/// The distinct file-backed mappings in maps text, in order of first appearance. Anonymous and
/// pseudo mappings (`[heap]`, `[vdso]`, `anon_inode:...`, inode 0) are left out, as are lines
/// that do not parse (the format is the kernel's; a bad line means a kernel we do not know).
pub fn parse_maps(text: &str) -> Vec<MappedFile> {
    let mut files: Vec<MappedFile> = Vec::new();
    for file in text.lines().filter_map(parse_line) {
        let seen = files
            .iter()
            .any(|f| f.dev == file.dev && f.inode == file.inode && f.path == file.path);
        if !seen {
            files.push(file);
        }
    }
    files
}

/// `start-end perms offset major:minor inode   path`: the path is the rest of the line after
/// the padding, and may itself contain spaces.
fn parse_line(line: &str) -> Option<MappedFile> {
    let mut rest = line;
    let mut field = || {
        let trimmed = rest.trim_start_matches(' ');
        let end = trimmed.find(' ').unwrap_or(trimmed.len());
        let (f, r) = trimmed.split_at(end);
        rest = r;
        f
    };
    let range = field();
    let _perms = field();
    let _offset = field();
    let dev = field();
    let inode = field();
    let path = rest.trim_start_matches(' ');

    let (start, end) = range.split_once('-')?;
    let range = (
        u64::from_str_radix(start, 16).ok()?,
        u64::from_str_radix(end, 16).ok()?,
    );
    let (major, minor) = dev.split_once(':')?;
    let dev = (
        u32::from_str_radix(major, 16).ok()?,
        u32::from_str_radix(minor, 16).ok()?,
    );
    let inode: u64 = inode.parse().ok()?;
    if inode == 0 || !path.starts_with('/') {
        return None;
    }
    let (path, deleted) = match path.strip_suffix(DELETED_SUFFIX) {
        Some(p) => (p, true),
        None => (path, false),
    };
    Some(MappedFile {
        path: path.to_owned(),
        dev,
        inode,
        deleted,
        range,
    })
}

/// `{proc_root}/{pid}/root{path}`: the file through the process's own root, so a path inside a
/// container (another mount namespace or chroot) opens the file that process maps.
pub fn host_path(proc_root: &Path, pid: u32, path: &str) -> PathBuf {
    // Joining an absolute path would replace the base, so the leading '/' goes.
    proc_root
        .join(pid.to_string())
        .join("root")
        .join(path.trim_start_matches('/'))
}

/// `{proc_root}/{pid}/map_files/{start}-{end}`: opens a mapped file even after it was deleted
/// (needs CAP_SYS_ADMIN, which the monitor has when it attaches probes).
pub fn map_files_path(proc_root: &Path, pid: u32, range: (u64, u64)) -> PathBuf {
    proc_root
        .join(pid.to_string())
        .join("map_files")
        .join(format!("{:x}-{:x}", range.0, range.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("testdata/maps.txt");

    #[test]
    fn fixture_files() {
        let files = parse_maps(FIXTURE);
        let paths: Vec<(&str, bool)> = files.iter().map(|f| (f.path.as_str(), f.deleted)).collect();
        assert_eq!(
            paths,
            [
                ("/usr/bin/python3.11", false),
                ("/usr/lib/x86_64-linux-gnu/libssl.so.3", true),
                ("/opt/My App/lib/libgnutls.so.30", false),
                ("/usr/lib/x86_64-linux-gnu/libc.so.6", false),
                ("/memfd:jit (deleted) twice", true),
            ]
        );
        let ssl = &files[1];
        assert_eq!(ssl.dev, (0x103, 0x2));
        assert_eq!(ssl.inode, 1_234_567);
        assert_eq!(ssl.range, (0x7f00_0000_0000, 0x7f00_0002_0000));
        assert_eq!(ssl.basename(), "libssl.so.3");
        assert_eq!(files[2].basename(), "libgnutls.so.30");
        assert_eq!(files[2].dev, (0xfd, 0x1));
    }

    #[test]
    fn garbage_and_empty_lines_are_skipped() {
        assert!(parse_maps("").is_empty());
        assert!(parse_maps("not a maps line\n\nzz-yy r--p 0 00:00 1 /x\n").is_empty());
    }

    #[test]
    fn own_maps_list_own_executable() {
        let text = std::fs::read_to_string("/proc/self/maps").unwrap();
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let files = parse_maps(&text);
        assert!(files.iter().any(|f| Path::new(&f.path) == exe), "{files:?}");
    }

    #[test]
    fn host_path_goes_through_process_root() {
        let p = host_path(Path::new("/proc"), 42, "/usr/lib/libssl.so.3");
        assert_eq!(p, Path::new("/proc/42/root/usr/lib/libssl.so.3"));
        let p = host_path(Path::new("/host/proc"), 7, "/opt/My App/lib/x.so");
        assert_eq!(p, Path::new("/host/proc/7/root/opt/My App/lib/x.so"));
        let p = map_files_path(Path::new("/proc"), 7, (0x7f00, 0x7f10));
        assert_eq!(p, Path::new("/proc/7/map_files/7f00-7f10"));
    }

    #[test]
    fn host_path_opens_own_libc() {
        let text = std::fs::read_to_string("/proc/self/maps").unwrap();
        let libc = parse_maps(&text)
            .into_iter()
            .find(|f| f.basename().starts_with("libc.so"))
            .unwrap();
        let p = host_path(Path::new("/proc"), std::process::id(), &libc.path);
        assert!(std::fs::metadata(p).unwrap().is_file());
    }
}
