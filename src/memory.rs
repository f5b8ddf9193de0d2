//! Hands the heap memory freed by a refresh back to the system.
//!
//! Each snapshot parses every domain's XML on the libvirt worker's thread
//! and then replaces the previous one; glibc keeps what that burst freed
//! resident, in the worker's arena, until the top of a heap is free. With
//! a thousand VMs that is 40–50 MiB that never comes back
//! (docs/benchmarks.md). `malloc_trim(0)` returns the free pages of every
//! arena, as systemd's `sd_event_trim_memory()` does; it is called once
//! per shown snapshot, which libvirt's events already coalesce.
#![allow(unsafe_code)]

/// Returns freed heap pages to the kernel (glibc only; a no-op elsewhere).
pub fn release_freed_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and only walks glibc's own
    // arenas under their locks; it is safe to call from any thread at any
    // time. Its result (whether anything was released) does not matter.
    unsafe {
        libc::malloc_trim(0);
    }
}
