//! Reads ring-buffer records as they arrive, through tokio's `AsyncFd`.

use std::io;

use aya::maps::{MapData, RingBuf};
use tokio::io::unix::AsyncFd;

pub struct RingBufReader {
    fd: AsyncFd<RingBuf<MapData>>,
}

impl RingBufReader {
    pub fn new(ring: RingBuf<MapData>) -> io::Result<Self> {
        // SAFETY: the ring buffer owns its fd and stays open for as long as the AsyncFd owns it.
        let fd = unsafe { AsyncFd::register(ring) }.map_err(io::Error::from)?;
        Ok(Self { fd })
    }

    /// Waits until records are available, then hands up to `budget` of them to `f`. Returns how
    /// many were handed over.
    pub async fn read(&mut self, budget: usize, mut f: impl FnMut(&[u8])) -> io::Result<usize> {
        let mut guard = self.fd.readable_mut().await?;
        let ring = guard.get_inner_mut();
        let mut n = 0;
        while n < budget {
            match ring.next() {
                Some(item) => {
                    f(&item);
                    n += 1;
                }
                None => break,
            }
        }
        if n < budget {
            guard.clear_ready();
        }
        Ok(n)
    }

    /// Hands every record available now to `f`, without waiting (used at shutdown).
    pub fn drain_now(&mut self, mut f: impl FnMut(&[u8])) -> usize {
        let ring = self.fd.get_mut();
        let mut n = 0;
        while let Some(item) = ring.next() {
            f(&item);
            n += 1;
        }
        n
    }
}
