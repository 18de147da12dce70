//! Cuts live TCP connections from userspace with the kernel's sock_diag SOCK_DESTROY (what `ss -K`
//! does): the kernel aborts the socket, the peer gets an RST and the local owner ECONNABORTED.
//! A BPF socket iterator calling bpf_sock_destroy would do the same, but aya cannot emit kfuncs.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV6};
use std::os::fd::AsRawFd;
use std::time::Duration;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NetlinkSerializable,
};
use netlink_packet_sock_diag::constants::{
    AF_INET, AF_INET6, IPPROTO_TCP, TCP_CLOSE, TCP_LISTEN, TCP_TIME_WAIT,
};
use netlink_packet_sock_diag::inet::{
    ExtensionFlags, InetRequest, InetResponseHeader, SocketId, StateFlags,
};
use netlink_packet_sock_diag::{SockDiagDestroy, SockDiagMessage};
use netlink_sys::{Socket, SocketAddr as NetlinkAddr, protocols::NETLINK_SOCK_DIAG};

/// How long one reply may take: the kernel answers sock_diag synchronously, so silence this long
/// means something is broken, and the agent must not hang on it.
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);
/// The kernel fills one dump datagram up to 32 KiB (netlink_dump's cap); a larger reply is
/// detected with MSG_TRUNC rather than silently cut.
const RECV_BUF: usize = 32 * 1024;
/// Sockets kept from one dump, so a host with a huge socket table cannot exhaust our memory.
pub const MAX_SOCKETS: usize = 1 << 18;
/// Netlink messages read for one request before giving up on a kernel that never ends a dump.
const MAX_MESSAGES: usize = 2 * MAX_SOCKETS;
/// TCP_NEW_SYN_RECV: how the kernel reports half-open (request) sockets; the crate has no flag.
const TCP_NEW_SYN_RECV: u32 = 12;
/// An all-ones cookie tells the kernel "match on the tuple alone".
const NO_COOKIE: [u8; 8] = [0xff; 8];

/// One TCP connection as the local host sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tcp4Tuple {
    pub local: std::net::SocketAddr,
    pub remote: std::net::SocketAddr,
}

impl Tcp4Tuple {
    /// The tuple with IPv4-mapped IPv6 addresses (`::ffff:10.0.0.2`, what a dual-stack socket
    /// reports) turned into plain IPv4, so one comparison covers both forms.
    pub fn canonical(self) -> Self {
        Self {
            local: canonical(self.local),
            remote: canonical(self.remote),
        }
    }
}

fn canonical(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => addr,
        },
        SocketAddr::V4(_) => addr,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("cannot open a NETLINK_SOCK_DIAG socket ({step}): {source}")]
    Open {
        step: &'static str,
        source: io::Error,
    },
    #[error(
        "the kernel cannot destroy sockets (SOCK_DESTROY: EOPNOTSUPP): it needs CONFIG_INET_DIAG_DESTROY=y"
    )]
    Unsupported,
    #[error("destroying sockets needs CAP_NET_ADMIN (SOCK_DESTROY: EPERM)")]
    PermissionDenied,
    #[error("sock_diag dump of TCP sockets failed: {0}")]
    Dump(#[source] io::Error),
    #[error("SOCK_DESTROY of {} -> {} failed: {source}", conn.local, conn.remote)]
    Destroy { conn: Tcp4Tuple, source: io::Error },
    #[error("{} -> {} mixes IPv4 and IPv6: no socket can have it", .0.local, .0.remote)]
    MixedFamilies(Tcp4Tuple),
    #[error("netlink {op} failed: {source}")]
    Io { op: &'static str, source: io::Error },
    #[error("the kernel did not answer a sock_diag request within {0:?}")]
    Timeout(Duration),
    #[error("undecodable sock_diag reply: {0}")]
    Decode(String),
    #[error("sock_diag reply of {0} bytes exceeds the {RECV_BUF}-byte buffer")]
    Truncated(usize),
    #[error("more than {MAX_SOCKETS} TCP sockets (or {MAX_MESSAGES} messages) in one dump")]
    TooManySockets,
}

/// A socket as the kernel reported it: the family and id (with the kernel's cookie) name exactly
/// this socket, so destroying it cannot hit a socket that reused the tuple meanwhile.
struct Reported {
    family: u8,
    id: SocketId,
    tuple: Tcp4Tuple,
}

impl Reported {
    fn from_header(header: &InetResponseHeader) -> Self {
        let id = header.socket_id.clone();
        let addr = |ip: IpAddr, port: u16| match ip {
            // A link-local peer is only unique with its interface, as std reports it.
            IpAddr::V6(v6) if v6.is_unicast_link_local() => {
                SocketAddr::V6(SocketAddrV6::new(v6, port, 0, id.interface_id))
            }
            ip => SocketAddr::new(ip, port),
        };
        let tuple = Tcp4Tuple {
            local: addr(id.source_address, id.source_port),
            remote: addr(id.destination_address, id.destination_port),
        };
        Self {
            family: header.family,
            id,
            tuple,
        }
    }
}

/// What the kernel said to a request, once its reply has been read to the end.
enum Outcome {
    Done,
    Errno(i32),
}

pub struct Resetter {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Resetter {
    pub fn new() -> Result<Self, ResetError> {
        Ok(Self {
            socket: open()?,
            seq: 0,
            buf: vec![0; RECV_BUF],
        })
    }

    /// Every TCP socket of this network namespace (IPv4 and IPv6, all states except LISTEN and
    /// TIME_WAIT/CLOSE), as (local, remote) — via a SOCK_DIAG_BY_FAMILY dump. Dual-stack sockets
    /// appear as the kernel reports them, with v4-mapped addresses: see [`Tcp4Tuple::canonical`].
    pub fn established(&mut self) -> Result<Vec<Tcp4Tuple>, ResetError> {
        Ok(self.dump(|_| true)?.into_iter().map(|s| s.tuple).collect())
    }

    /// Destroys the socket with exactly this tuple. Ok(true) if destroyed, Ok(false) if no such socket (ENOENT).
    pub fn destroy(&mut self, conn: Tcp4Tuple) -> Result<bool, ResetError> {
        // The kernel's lookup falls back to listeners: a tuple whose connection is gone would
        // find (and abort) the listening socket on its local port. So ask first what the tuple
        // names, and destroy only a connection, by the cookie the kernel gave back.
        let Some(found) = self.lookup(conn)? else {
            return Ok(false);
        };
        if matches!(found.state, TCP_LISTEN | TCP_TIME_WAIT | TCP_CLOSE) {
            return Ok(false);
        }
        self.destroy_reported(&Reported::from_header(&found))
    }

    /// Destroys every socket whose remote address matches `pred`; returns how many were destroyed.
    /// `pred` matches a dual-stack socket by its v4-mapped tuple or by the plain IPv4 form.
    pub fn destroy_where(
        &mut self,
        pred: impl Fn(&Tcp4Tuple) -> bool,
    ) -> Result<usize, ResetError> {
        let targets = self.dump(|t| pred(t) || pred(&t.canonical()))?;
        let mut destroyed = 0;
        for target in &targets {
            if self.destroy_reported(target)? {
                destroyed += 1;
            }
        }
        Ok(destroyed)
    }

    /// Whether this kernel supports SOCK_DESTROY (probe: destroy a tuple that does not exist; ENOENT means supported, EOPNOTSUPP means not).
    pub fn supported(&mut self) -> Result<bool, ResetError> {
        // Ports 0 cannot name a connection or a listener, and cookie 0 is never given to a
        // socket, so whatever the lookup finds is refused: the probe can destroy nothing.
        let probe = Ipv4Addr::new(192, 0, 2, 1);
        let mut id = SocketId::new_v4();
        (id.source_address, id.destination_address) = (probe.into(), probe.into());
        id.cookie = [0; 8];
        let request = SockDiagDestroy::new(SockDiagMessage::InetRequest(request(AF_INET, id)));
        match self.exchange(request, NLM_F_REQUEST | NLM_F_ACK, |_| {})? {
            Outcome::Done => Ok(true),
            Outcome::Errno(libc::ENOENT) => Ok(true),
            Outcome::Errno(libc::EOPNOTSUPP) => Ok(false),
            Outcome::Errno(errno) => Err(ResetError::Io {
                op: "SOCK_DESTROY probe",
                source: io::Error::from_raw_os_error(errno),
            }),
        }
    }

    /// The sockets of both families that `keep` selects, from one dump per family.
    fn dump(&mut self, keep: impl Fn(&Tcp4Tuple) -> bool) -> Result<Vec<Reported>, ResetError> {
        let states = StateFlags::all()
            .difference(StateFlags::LISTEN | StateFlags::TIME_WAIT | StateFlags::CLOSE)
            .union(StateFlags::from_bits_retain(1 << TCP_NEW_SYN_RECV));
        let mut kept = Vec::new();
        let mut overflow = false;
        for (family, id) in [
            (AF_INET, SocketId::new_v4()),
            (AF_INET6, SocketId::new_v6()),
        ] {
            let mut req = request(family, id);
            req.states = states.clone();
            let outcome = self.exchange(
                SockDiagMessage::InetRequest(req),
                NLM_F_REQUEST | NLM_F_DUMP,
                |header| {
                    // Filtered again here: the state mask is a request, not a promise.
                    if matches!(header.state, TCP_LISTEN | TCP_TIME_WAIT | TCP_CLOSE) {
                        return;
                    }
                    let socket = Reported::from_header(header);
                    if !keep(&socket.tuple) {
                        return;
                    }
                    // Keep reading to the end even when full: an unfinished dump would make
                    // the next one fail with EBUSY.
                    if kept.len() < MAX_SOCKETS {
                        kept.push(socket);
                    } else {
                        overflow = true;
                    }
                },
            )?;
            if let Outcome::Errno(errno) = outcome {
                return Err(ResetError::Dump(io::Error::from_raw_os_error(errno)));
            }
        }
        if overflow {
            return Err(ResetError::TooManySockets);
        }
        Ok(kept)
    }

    /// What the kernel finds for this tuple (connection, or the listener it falls back to).
    fn lookup(&mut self, conn: Tcp4Tuple) -> Result<Option<InetResponseHeader>, ResetError> {
        let canon = conn.canonical();
        // A v4 tuple is looked up in the IPv4 tables, where dual-stack sockets live too, so
        // the plain and the mapped form find the same socket.
        let (family, mut id) = match (canon.local.ip(), canon.remote.ip()) {
            (IpAddr::V4(_), IpAddr::V4(_)) => (AF_INET, SocketId::new_v4()),
            (IpAddr::V6(_), IpAddr::V6(_)) => (AF_INET6, SocketId::new_v6()),
            _ => return Err(ResetError::MixedFamilies(conn)),
        };
        // SocketId::new_* zeroes the cookie, which the kernel would compare and refuse.
        id.cookie = NO_COOKIE;
        id.source_address = canon.local.ip();
        id.source_port = canon.local.port();
        id.destination_address = canon.remote.ip();
        id.destination_port = canon.remote.port();
        if let SocketAddr::V6(remote) = canon.remote {
            id.interface_id = remote.scope_id();
        }
        let mut found = None;
        let query = SockDiagMessage::InetRequest(request(family, id));
        let outcome = self.exchange(query, NLM_F_REQUEST | NLM_F_ACK, |header| {
            found = Some(header.clone());
        })?;
        match outcome {
            Outcome::Done => Ok(found),
            Outcome::Errno(libc::ENOENT) => Ok(None),
            Outcome::Errno(errno) => Err(ResetError::Destroy {
                conn,
                source: io::Error::from_raw_os_error(errno),
            }),
        }
    }

    fn destroy_reported(&mut self, socket: &Reported) -> Result<bool, ResetError> {
        let req = request(socket.family, socket.id.clone());
        let destroy = SockDiagDestroy::new(SockDiagMessage::InetRequest(req));
        match self.exchange(destroy, NLM_F_REQUEST | NLM_F_ACK, |_| {})? {
            Outcome::Done => Ok(true),
            // Gone since we saw it (ENOENT), or its tuple now names another socket (cookie).
            Outcome::Errno(libc::ENOENT | libc::ESTALE) => Ok(false),
            Outcome::Errno(libc::EOPNOTSUPP) => Err(ResetError::Unsupported),
            Outcome::Errno(libc::EPERM | libc::EACCES) => Err(ResetError::PermissionDenied),
            Outcome::Errno(errno) => Err(ResetError::Destroy {
                conn: socket.tuple,
                source: io::Error::from_raw_os_error(errno),
            }),
        }
    }

    /// Sends one request and reads its reply to the end (NLMSG_DONE or NLMSG_ERROR), handing
    /// each socket reported to `visit`.
    fn exchange<M: NetlinkSerializable>(
        &mut self,
        payload: M,
        flags: u16,
        visit: impl FnMut(&InetResponseHeader),
    ) -> Result<Outcome, ResetError> {
        let result = self
            .send(payload, flags)
            .and_then(|seq| self.receive(seq, visit));
        if result.is_err() {
            // A reply we stopped reading halfway would answer (or block) the next request:
            // start over on a fresh socket. If that fails too, the next call reports it.
            if let Ok(socket) = open() {
                self.socket = socket;
            }
        }
        result
    }

    fn send<M: NetlinkSerializable>(&mut self, payload: M, flags: u16) -> Result<u32, ResetError> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut message = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(payload));
        message.finalize();
        // serialize() panics on a short buffer; this one is sized by the message itself.
        let mut bytes = vec![0; message.buffer_len()];
        message.serialize(&mut bytes);
        self.socket
            .send(&bytes, 0)
            .map_err(|source| ResetError::Io { op: "send", source })?;
        Ok(self.seq)
    }

    fn receive(
        &mut self,
        seq: u32,
        mut visit: impl FnMut(&InetResponseHeader),
    ) -> Result<Outcome, ResetError> {
        let mut messages = 0usize;
        loop {
            let len = match self.socket.recv(&mut &mut self.buf[..], libc::MSG_TRUNC) {
                Ok(len) => len,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(ResetError::Timeout(REPLY_TIMEOUT));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(ResetError::Io { op: "recv", source }),
            };
            if len > self.buf.len() {
                return Err(ResetError::Truncated(len));
            }
            let mut offset = 0;
            while offset < len {
                let message =
                    NetlinkMessage::<SockDiagMessage>::deserialize(&self.buf[offset..len])
                        .map_err(|e| ResetError::Decode(e.to_string()))?;
                let size = message.header.length as usize;
                if size == 0 {
                    return Err(ResetError::Decode("netlink message of length 0".into()));
                }
                // Messages in one datagram start on 4-byte boundaries (NLMSG_ALIGN).
                offset += size.next_multiple_of(4);
                messages += 1;
                if messages > MAX_MESSAGES {
                    return Err(ResetError::TooManySockets);
                }
                // The reply to an earlier request that failed halfway is not ours.
                if message.header.sequence_number != seq {
                    continue;
                }
                match message.payload {
                    NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(response)) => {
                        visit(&response.header)
                    }
                    // sock_diag ends a dump with the dump's return code, negative on failure.
                    NetlinkPayload::Done(done) if done.code < 0 => {
                        return Ok(Outcome::Errno(-done.code));
                    }
                    NetlinkPayload::Done(_) => return Ok(Outcome::Done),
                    NetlinkPayload::Error(error) => {
                        return Ok(match error.code {
                            None => Outcome::Done,
                            Some(code) => Outcome::Errno(-code.get()),
                        });
                    }
                    NetlinkPayload::Overrun(_) => {
                        return Err(ResetError::Decode("netlink overrun".into()));
                    }
                    _ => {}
                }
            }
        }
    }
}

fn request(family: u8, socket_id: SocketId) -> InetRequest {
    InetRequest {
        family,
        protocol: IPPROTO_TCP,
        extensions: ExtensionFlags::empty(),
        states: StateFlags::all(),
        socket_id,
    }
}

fn open() -> Result<Socket, ResetError> {
    let err = |step| move |source| ResetError::Open { step, source };
    let mut socket = Socket::new(NETLINK_SOCK_DIAG).map_err(err("socket"))?;
    socket.bind_auto().map_err(err("bind"))?;
    socket
        .connect(&NetlinkAddr::new(0, 0))
        .map_err(err("connect"))?;
    let timeout = libc::timeval {
        tv_sec: REPLY_TIMEOUT.as_secs() as libc::time_t,
        tv_usec: REPLY_TIMEOUT.subsec_micros() as libc::suseconds_t,
    };
    // SAFETY: the fd is open for the lifetime of `socket`; the option value is a valid timeval
    // of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const timeout).cast(),
            size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(err("SO_RCVTIMEO")(io::Error::last_os_error()));
    }
    Ok(socket)
}

#[cfg(test)]
mod tests {
    //! Against the real kernel: loopback connections of this test process only (every
    //! predicate names our own ports, so other tests' connections are never touched).

    use std::io::{ErrorKind, Read, Write};
    use std::net::{TcpListener, TcpStream};

    use super::*;

    fn root() -> bool {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: SOCK_DESTROY needs root (CAP_NET_ADMIN)");
            return false;
        }
        true
    }

    struct Pair {
        client: TcpStream,
        server: TcpStream,
        // Taken at connect time: a destroyed socket has no peer address any more.
        client_tuple: Tcp4Tuple,
        server_tuple: Tcp4Tuple,
    }

    impl Pair {
        fn connect(listener: &TcpListener, to: SocketAddr) -> Self {
            let client = TcpStream::connect(to).expect("connect");
            let (server, _) = listener.accept().expect("accept");
            for s in [&client, &server] {
                // A missing RST must fail the test, not hang it.
                s.set_read_timeout(Some(Duration::from_secs(5)))
                    .expect("timeout");
            }
            let (client_tuple, server_tuple) = (tuple(&client), tuple(&server));
            Self {
                client,
                server,
                client_tuple,
                server_tuple,
            }
        }

        /// Bytes still flow both ways.
        fn assert_alive(&mut self) {
            let mut buf = [0u8; 4];
            self.client.write_all(b"ping").expect("client write");
            self.server.read_exact(&mut buf).expect("server read");
            assert_eq!(&buf, b"ping");
            self.server.write_all(b"pong").expect("server write");
            self.client.read_exact(&mut buf).expect("client read");
            assert_eq!(&buf, b"pong");
        }

        /// What each end sees after the server's socket was destroyed: the owner gets
        /// ECONNABORTED once, then end of stream; the peer got an RST: ECONNRESET, then end of
        /// stream.
        fn assert_cut(&mut self) {
            let mut buf = [0u8; 16];
            let owner = self
                .server
                .read(&mut buf)
                .expect_err("server read after destroy");
            assert_eq!(owner.kind(), ErrorKind::ConnectionAborted, "{owner}");
            assert_eq!(owner.raw_os_error(), Some(libc::ECONNABORTED));
            assert_eq!(self.server.read(&mut buf).expect("server read again"), 0);
            let peer = self
                .client
                .read(&mut buf)
                .expect_err("client read after RST");
            assert_eq!(peer.kind(), ErrorKind::ConnectionReset, "{peer}");
            assert_eq!(self.client.read(&mut buf).expect("client read again"), 0);
        }
    }

    fn tuple(stream: &TcpStream) -> Tcp4Tuple {
        Tcp4Tuple {
            local: stream.local_addr().expect("local addr"),
            remote: stream.peer_addr().expect("peer addr"),
        }
    }

    fn destroys_server_side(listen: &str, connect_ip: IpAddr) {
        let listener = TcpListener::bind(listen).expect("bind");
        let to = SocketAddr::new(connect_ip, listener.local_addr().expect("addr").port());
        let mut pair = Pair::connect(&listener, to);
        let mut resetter = Resetter::new().expect("resetter");

        let listed = resetter.established().expect("established");
        assert!(listed.contains(&pair.client_tuple), "{listed:?}");
        assert!(listed.contains(&pair.server_tuple), "{listed:?}");
        let listening = listener.local_addr().expect("addr");
        assert!(
            !listed
                .iter()
                .any(|t| t.local == listening && t.remote.port() == 0)
        );

        assert!(resetter.destroy(pair.server_tuple).expect("destroy"));
        pair.assert_cut();
        let listed = resetter.established().expect("established");
        assert!(!listed.contains(&pair.server_tuple), "{listed:?}");
        assert!(!listed.contains(&pair.client_tuple), "{listed:?}");
        assert!(!resetter.destroy(pair.server_tuple).expect("destroy again"));
    }

    #[test]
    fn destroy_resets_an_ipv4_loopback_connection() {
        if root() {
            destroys_server_side("127.0.0.1:0", Ipv4Addr::LOCALHOST.into());
        }
    }

    #[test]
    fn destroy_resets_an_ipv6_loopback_connection() {
        if root() {
            destroys_server_side("[::1]:0", std::net::Ipv6Addr::LOCALHOST.into());
        }
    }

    #[test]
    fn unknown_tuple_is_not_destroyed_and_the_kernel_supports_destroy() {
        if !root() {
            return;
        }
        let mut resetter = Resetter::new().expect("resetter");
        let nobody = Tcp4Tuple {
            local: "127.0.0.1:1".parse().expect("addr"),
            remote: "127.0.0.1:2".parse().expect("addr"),
        };
        assert!(!resetter.destroy(nobody).expect("destroy"));
        assert!(resetter.supported().expect("probe"));
    }

    #[test]
    fn a_gone_connection_never_takes_its_listener() {
        if !root() {
            return;
        }
        // The kernel's lookup falls back to the listener on the local port.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let listening = listener.local_addr().expect("addr");
        let mut resetter = Resetter::new().expect("resetter");
        let gone = Tcp4Tuple {
            local: listening,
            remote: "127.0.0.1:9".parse().expect("addr"),
        };
        assert!(!resetter.destroy(gone).expect("destroy"));
        Pair::connect(&listener, listening).assert_alive();
    }

    #[test]
    fn dual_stack_socket_is_destroyed_by_its_plain_ipv4_addresses() {
        if !root() {
            return;
        }
        let listener = TcpListener::bind("[::]:0").expect("bind");
        let to = SocketAddr::new(
            Ipv4Addr::LOCALHOST.into(),
            listener.local_addr().expect("addr").port(),
        );
        let mut pair = Pair::connect(&listener, to);
        let server = pair.server_tuple;
        assert!(
            server.remote.is_ipv6(),
            "accepted by a dual-stack listener: {server:?}"
        );
        assert_eq!(
            server.canonical(),
            Tcp4Tuple {
                local: to,
                remote: pair.client_tuple.local
            }
        );
        let mut resetter = Resetter::new().expect("resetter");
        assert!(
            resetter
                .established()
                .expect("established")
                .contains(&server)
        );

        let client = pair.client_tuple.local;
        assert!(client.is_ipv4());
        // Only the accepted socket has the client's address as its remote end.
        assert_eq!(
            resetter
                .destroy_where(|t| t.remote == client)
                .expect("destroy_where"),
            1
        );
        pair.assert_cut();
    }

    #[test]
    fn dual_stack_socket_is_destroyed_by_either_address_form() {
        if !root() {
            return;
        }
        let listener = TcpListener::bind("[::]:0").expect("bind");
        let to = SocketAddr::new(
            Ipv4Addr::LOCALHOST.into(),
            listener.local_addr().expect("addr").port(),
        );
        let mut resetter = Resetter::new().expect("resetter");

        let mut mapped = Pair::connect(&listener, to);
        assert!(
            resetter
                .destroy(mapped.server_tuple)
                .expect("destroy mapped form")
        );
        mapped.assert_cut();

        let mut plain = Pair::connect(&listener, to);
        assert!(plain.server_tuple.local.is_ipv6());
        assert!(
            resetter
                .destroy(plain.server_tuple.canonical())
                .expect("destroy plain form")
        );
        plain.assert_cut();
    }

    #[test]
    fn destroy_where_cuts_only_the_matching_connections() {
        if !root() {
            return;
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let to = listener.local_addr().expect("addr");
        let mut blocked = Pair::connect(&listener, to);
        let mut other = Pair::connect(&listener, to);
        let attacker = blocked.client_tuple.local;
        assert_ne!(attacker.port(), other.client_tuple.local.port());

        let mut resetter = Resetter::new().expect("resetter");
        assert_eq!(
            resetter
                .destroy_where(|t| t.remote == attacker)
                .expect("destroy_where"),
            1
        );
        blocked.assert_cut();
        other.assert_alive();
        assert!(
            resetter
                .established()
                .expect("established")
                .contains(&other.server_tuple)
        );
    }
}
