//! Which kernel program attaches to which tracepoints. One table, used by the loader and by
//! `monitor check`.

/// (program name in the eBPF object, tracepoints as (category, name)).
pub const ATTACH_POINTS: &[(&str, &[(&str, &str)])] = &[
    ("sock_send_length", &[("sock", "sock_send_length")]),
    ("sock_recv_length", &[("sock", "sock_recv_length")]),
    ("inet_sock_set_state", &[("sock", "inet_sock_set_state")]),
    ("tcp_destroy_sock", &[("tcp", "tcp_destroy_sock")]),
    ("tcp_rcv_space_adjust", &[("tcp", "tcp_rcv_space_adjust")]),
    ("sched_process_exit", &[("sched", "sched_process_exit")]),
    ("sched_process_exec", &[("sched", "sched_process_exec")]),
    ("sys_enter_mmap", &[("syscalls", "sys_enter_mmap")]),
    (
        "sys_exit_data",
        &[
            ("syscalls", "sys_exit_read"),
            ("syscalls", "sys_exit_write"),
            ("syscalls", "sys_exit_readv"),
            ("syscalls", "sys_exit_writev"),
            ("syscalls", "sys_exit_sendto"),
            ("syscalls", "sys_exit_recvfrom"),
            ("syscalls", "sys_exit_sendmsg"),
            ("syscalls", "sys_exit_recvmsg"),
            ("syscalls", "sys_exit_sendmmsg"),
            ("syscalls", "sys_exit_recvmmsg"),
            ("syscalls", "sys_exit_sendfile64"),
        ],
    ),
    (
        "sys_exit_accept",
        &[
            ("syscalls", "sys_exit_accept"),
            ("syscalls", "sys_exit_accept4"),
        ],
    ),
    ("sys_enter_connect", &[("syscalls", "sys_enter_connect")]),
    ("sys_enter_close", &[("syscalls", "sys_enter_close")]),
    ("sys_enter_read", &[("syscalls", "sys_enter_read")]),
    ("sys_enter_write", &[("syscalls", "sys_enter_write")]),
    ("sys_enter_readv", &[("syscalls", "sys_enter_readv")]),
    ("sys_enter_writev", &[("syscalls", "sys_enter_writev")]),
    ("sys_enter_sendto", &[("syscalls", "sys_enter_sendto")]),
    ("sys_enter_recvfrom", &[("syscalls", "sys_enter_recvfrom")]),
    ("sys_enter_sendmsg", &[("syscalls", "sys_enter_sendmsg")]),
    ("sys_enter_recvmsg", &[("syscalls", "sys_enter_recvmsg")]),
    ("sys_enter_sendmmsg", &[("syscalls", "sys_enter_sendmmsg")]),
    ("sys_enter_recvmmsg", &[("syscalls", "sys_enter_recvmmsg")]),
    (
        "sys_enter_sendfile64",
        &[("syscalls", "sys_enter_sendfile64")],
    ),
];

/// Every tracepoint used, as "category/name".
pub fn tracepoints() -> impl Iterator<Item = (&'static str, &'static str)> {
    ATTACH_POINTS
        .iter()
        .flat_map(|(_, tps)| tps.iter().copied())
}
