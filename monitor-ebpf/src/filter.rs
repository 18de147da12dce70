//! Which processes and connections are captured: never the agent itself; then the pid, cgroup
//! and port filters userspace configured.

use aya_ebpf::helpers::bpf_get_current_cgroup_id;
use monitor_common::{
    Tuple,
    config::{FILTER_CGROUP, FILTER_PID, FILTER_PORT},
};

use crate::maps::{CGROUP_FILTER, PID_FILTER, PORT_FILTER, config};

#[inline(always)]
pub fn process_allowed(tgid: u32) -> bool {
    let cfg = config();
    if tgid == cfg.self_tgid {
        return false;
    }
    // SAFETY (both lookups): values are plain u8 markers that are only tested for presence.
    if cfg.filters & FILTER_PID != 0 && unsafe { PID_FILTER.get(&tgid) }.is_none() {
        return false;
    }
    if cfg.filters & FILTER_CGROUP != 0 {
        // SAFETY: helper without preconditions.
        let cgroup = unsafe { bpf_get_current_cgroup_id() };
        if unsafe { CGROUP_FILTER.get(&cgroup) }.is_none() {
            return false;
        }
    }
    true
}

/// Whether a connection with these (known) addresses passes the port filter.
#[inline(always)]
pub fn ports_allowed(tuple: &Tuple) -> bool {
    if config().filters & FILTER_PORT == 0 {
        return true;
    }
    // SAFETY: presence tests only.
    unsafe { PORT_FILTER.get(&tuple.lport).is_some() || PORT_FILTER.get(&tuple.rport).is_some() }
}
