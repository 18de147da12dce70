//! Remembers what each ELF file held, so 500 processes sharing one libssl (or one 100 MB node)
//! cost one read. Keyed by file identity and version; bounded, with evictions counted.

use std::{
    fs::{File, Metadata},
    num::NonZeroUsize,
    os::unix::fs::MetadataExt,
    path::Path,
    sync::Arc,
};

use lru::LruCache;
use serde::Serialize;

use super::elf::{self, ElfError, ElfInfo};

/// A file as the kernel knows it: the key for "one probe per file", since uprobes attach to an
/// inode whatever path or mount namespace it was reached through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

/// A file's identity plus what changes when it is rewritten in place, so a stale entry is never
/// served for a modified file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileKey {
    pub id: FileId,
    pub size: u64,
    pub mtime_ns: i128,
}

impl FileKey {
    pub fn of(meta: &Metadata) -> Self {
        Self {
            id: FileId {
                dev: meta.dev(),
                ino: meta.ino(),
            },
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

/// Bounded LRU of inspected files.
pub struct FileCache {
    entries: LruCache<FileKey, Arc<ElfInfo>>,
    stats: CacheStats,
}

impl FileCache {
    /// Far more distinct TLS-relevant files than a host usually runs, at a few KB each.
    pub const DEFAULT_CAPACITY: NonZeroUsize = NonZeroUsize::MIN.saturating_add(4095);

    pub fn new(capacity: NonZeroUsize) -> Self {
        Self {
            entries: LruCache::new(capacity),
            stats: CacheStats::default(),
        }
    }

    /// Opens `path` and returns its key and contents, reading the file only on a miss. The key
    /// comes from `fstat` of the opened file, so it describes exactly what was inspected.
    pub fn inspect(&mut self, path: &Path) -> Result<(FileKey, Arc<ElfInfo>), ElfError> {
        let open_error = |source| ElfError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(open_error)?;
        let key = FileKey::of(&file.metadata().map_err(open_error)?);
        if let Some(info) = self.entries.get(&key) {
            self.stats.hits += 1;
            return Ok((key, Arc::clone(info)));
        }
        self.stats.misses += 1;
        let info = Arc::new(elf::inspect_file(&file, path)?);
        if let Some((old, _)) = self.entries.push(key, Arc::clone(&info))
            && old != key
        {
            self.stats.evictions += 1;
        }
        Ok((key, info))
    }

    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Default for FileCache {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIBSSL: &str = "/usr/lib/x86_64-linux-gnu/libssl.so.3";

    #[test]
    fn second_read_is_a_hit() {
        let mut cache = FileCache::default();
        let (k1, a) = cache.inspect(Path::new(LIBSSL)).unwrap();
        let (k2, b) = cache.inspect(Path::new(LIBSSL)).unwrap();
        assert_eq!(k1, k2);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(
            cache.stats(),
            CacheStats {
                hits: 1,
                misses: 1,
                evictions: 0
            }
        );
    }

    /// A copy is another inode (another probe target) with the same offsets.
    #[test]
    fn copy_is_another_file_with_same_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("libssl.so.3");
        std::fs::copy(LIBSSL, &copy).unwrap();
        let mut cache = FileCache::default();
        let (orig_key, orig) = cache.inspect(Path::new(LIBSSL)).unwrap();
        let (copy_key, copied) = cache.inspect(&copy).unwrap();
        assert_ne!(orig_key.id, copy_key.id);
        assert_eq!(orig.symbols, copied.symbols);
        assert_eq!(cache.stats().misses, 2);
    }

    #[test]
    fn bounded_with_counted_evictions() {
        let mut cache = FileCache::new(NonZeroUsize::MIN);
        cache.inspect(Path::new(LIBSSL)).unwrap();
        cache.inspect(Path::new("/bin/ls")).unwrap();
        cache.inspect(Path::new(LIBSSL)).unwrap();
        assert_eq!(cache.len(), 1);
        assert_eq!(
            cache.stats(),
            CacheStats {
                hits: 0,
                misses: 3,
                evictions: 2
            }
        );
    }

    #[test]
    fn missing_file_is_an_open_error() {
        let mut cache = FileCache::default();
        let err = cache
            .inspect(Path::new("/nonexistent/libssl.so.3"))
            .unwrap_err();
        assert_eq!(
            err.io_error().map(std::io::Error::kind),
            Some(std::io::ErrorKind::NotFound)
        );
        assert!(err.to_string().contains("/nonexistent/libssl.so.3"));
    }
}
