#![no_std]
//! Library target, only so `monitor` can name this crate as a build dependency (and be rebuilt
//! when it changes). The programs are in the `monitor` binary target.
