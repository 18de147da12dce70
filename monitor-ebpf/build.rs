//! Rebuild the kernel programs when the bpf-linker binary changes (it is an undeclared
//! dependency of this crate: the linker that turns LLVM bitcode into a BPF object).
fn main() {
    if let Ok(linker) = which::which("bpf-linker") {
        println!("cargo:rerun-if-changed={}", linker.display());
    }
}
