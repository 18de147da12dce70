//! Mounting the kernel's pseudo filesystems the monitor needs when the host has not (tracefs
//! for tracepoint ids, cgroup v2 for the blocking program), as perf and bpftool do.

use std::{
    ffi::{CStr, CString},
    io,
    os::unix::ffi::OsStrExt,
    path::Path,
};

/// `mount -t FSTYPE SOURCE TARGET`.
pub fn mount(source: &CStr, fstype: &CStr, target: &Path) -> io::Result<()> {
    let dir = CString::new(target.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: all pointers are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe {
        libc::mount(
            source.as_ptr(),
            dir.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
