//! Kernel side of the monitor: syscall tracepoints capture what TCP sockets send and receive;
//! socket tracepoints tell which socket a syscall touched and that socket's addresses. Nothing
//! here reads a kernel struct: every fact comes from a tracepoint's own fields.
#![no_std]
#![no_main]
// Atomic read-modify-write: the bpf target does not enable core's atomic types' RMW methods.
#![feature(core_intrinsics)]
#![allow(internal_features)]

mod atomic;

mod ctx;
mod emit;
mod enforce;
mod filter;
mod maps;
mod procs;
mod sockets;
mod syscalls;
mod tls;

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // The verifier rejects any program that could reach this; it exists to satisfy no_std.
    loop {}
}

#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 4] = *b"GPL\0";
