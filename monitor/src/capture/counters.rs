//! Sums the kernel programs' per-CPU loss and health counters.

use std::collections::BTreeMap;

use aya::maps::{MapData, PerCpuArray};
use monitor_common::Counter;

pub struct KernelCounters {
    map: PerCpuArray<MapData, u64>,
}

impl KernelCounters {
    pub fn new(map: PerCpuArray<MapData, u64>) -> Self {
        Self { map }
    }

    /// Every counter by its stable name, summed over CPUs. A counter that cannot be read is
    /// reported as absent rather than as zero.
    pub fn read(&self) -> BTreeMap<&'static str, u64> {
        let mut out = BTreeMap::new();
        for counter in Counter::ALL {
            if let Ok(values) = self.map.get(&(counter as u32), 0) {
                out.insert(counter.name(), values.iter().sum());
            }
        }
        out
    }
}
