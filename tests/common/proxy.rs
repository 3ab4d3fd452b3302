//! A TCP proxy in front of PostgreSQL ([`Proxy`]) that can cut every current connection and
//! then refuse (listener closed: ECONNREFUSED, as a stopped server), reset (accept, then RST)
//! or black-hole (accept, never answer) new ones until it is restored; and that can swallow
//! the reply to the next `COMMIT` (the commit happens, the client never learns it).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// What the proxy does with connections while it is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Up: every connection is forwarded.
    None,
    /// The listening socket is closed: connection attempts get ECONNREFUSED (a stopped server).
    Refuse,
    /// Connections are accepted and reset at once (RST).
    Reset,
    /// Connections are accepted and never answered (a host that stopped responding).
    BlackHole,
}

struct ProxyShared {
    upstream: SocketAddr,
    forwarders: Mutex<JoinSet<()>>,
    held: Mutex<Vec<TcpStream>>,
    /// Armed: the reply to the next `COMMIT` is swallowed and its connection cut.
    commit_trap: AtomicBool,
    commits_trapped: AtomicU64,
    accepted: AtomicU64,
    turned_away: AtomicU64,
}

/// A loopback TCP proxy to `upstream` on a fixed port, with an off switch.
pub struct Proxy {
    pub addr: SocketAddr,
    outage: watch::Sender<Outage>,
    shared: Arc<ProxyShared>,
    task: tokio::task::JoinHandle<()>,
}

/// The simple-query message sqlx sends to commit a transaction: `Q`, length 11, `COMMIT\0`.
const COMMIT_QUERY: &[u8] = b"Q\0\0\0\x0bCOMMIT\0";

impl Proxy {
    /// Listens on a free loopback port, forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(ProxyShared {
            upstream,
            forwarders: Mutex::new(JoinSet::new()),
            held: Mutex::new(Vec::new()),
            commit_trap: AtomicBool::new(false),
            commits_trapped: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            turned_away: AtomicU64::new(0),
        });
        let (outage, watcher) = watch::channel(Outage::None);
        let task = tokio::spawn(accept_loop(listener, addr, watcher, shared.clone()));
        Proxy {
            addr,
            outage,
            shared,
            task,
        }
    }

    /// Cuts every current connection (both sockets closed) and treats new ones as `how` says,
    /// until [`Proxy::restore`].
    pub fn cut(&self, how: Outage) {
        self.outage.send_replace(how);
        self.cut_current();
    }

    /// Closes every forwarded connection now, without changing the mode.
    pub fn cut_current(&self) {
        self.shared.forwarders.lock().unwrap().abort_all();
    }

    /// Forwards new connections again (held black-holed ones are closed).
    pub fn restore(&self) {
        self.outage.send_replace(Outage::None);
        self.shared.held.lock().unwrap().clear();
    }

    /// Arms the trap: the next `COMMIT` goes through to the server, its reply never comes
    /// back, and that connection is cut 200 ms later.
    pub fn swallow_next_commit_reply(&self) {
        self.shared.commit_trap.store(true, Ordering::SeqCst);
    }

    /// Commits whose reply was swallowed so far.
    pub fn commits_swallowed(&self) -> u64 {
        self.shared.commits_trapped.load(Ordering::SeqCst)
    }

    /// Connections accepted and forwarded so far.
    pub fn forwarded(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Connections refused, reset or black-holed during outages (refusals by a closed
    /// listener are not seen and not counted).
    pub fn turned_away(&self) -> u64 {
        self.shared.turned_away.load(Ordering::SeqCst)
    }

    /// Rewrites a `postgres://` URL to go through this proxy (host and port replaced).
    pub fn url_for(&self, url: &str) -> String {
        let scheme_end = url.find("://").expect("a URL") + 3;
        let rest = &url[scheme_end..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        let userinfo = authority
            .rfind('@')
            .map(|at| &authority[..=at])
            .unwrap_or("");
        format!(
            "{}{}{}{}",
            &url[..scheme_end],
            userinfo,
            self.addr,
            &rest[authority_end..]
        )
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut_current();
        self.shared.held.lock().unwrap().clear();
    }
}

async fn accept_loop(
    first: TcpListener,
    addr: SocketAddr,
    mut outage: watch::Receiver<Outage>,
    shared: Arc<ProxyShared>,
) {
    let mut listener = Some(first);
    loop {
        let Some(l) = &listener else {
            // Refusing: no listening socket until the mode changes.
            if outage.changed().await.is_err() {
                return;
            }
            if *outage.borrow() != Outage::Refuse {
                listener = Some(rebind(addr).await);
            }
            continue;
        };
        tokio::select! {
            accepted = l.accept() => {
                let Ok((socket, _)) = accepted else { continue };
                let mode = *outage.borrow();
                match mode {
                    Outage::None => {
                        shared.accepted.fetch_add(1, Ordering::SeqCst);
                        let s = shared.clone();
                        shared.forwarders.lock().unwrap().spawn(forward(socket, s));
                    }
                    Outage::Reset => {
                        shared.turned_away.fetch_add(1, Ordering::SeqCst);
                        let _ = socket2::SockRef::from(&socket).set_linger(Some(Duration::ZERO));
                        drop(socket);
                    }
                    Outage::BlackHole => {
                        shared.turned_away.fetch_add(1, Ordering::SeqCst);
                        shared.held.lock().unwrap().push(socket);
                    }
                    Outage::Refuse => {
                        shared.turned_away.fetch_add(1, Ordering::SeqCst);
                        drop(socket);
                    }
                }
            }
            changed = outage.changed() => {
                if changed.is_err() {
                    return;
                }
                if *outage.borrow() == Outage::Refuse {
                    listener = None; // closed: the port now refuses connections
                }
            }
        }
    }
}

/// Binds the proxy's port again after a refusing spell.
async fn rebind(addr: SocketAddr) -> TcpListener {
    let mut last = None;
    for _ in 0..100 {
        match TcpListener::bind(addr).await {
            Ok(l) => return l,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the proxy cannot listen on {addr} again: {last:?}");
}

/// Forwards one connection both ways until either side closes (or the task is aborted).
async fn forward(client: TcpStream, shared: Arc<ProxyShared>) {
    let Ok(server) = TcpStream::connect(shared.upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let muted = AtomicBool::new(false);
    let up = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            let trapped = shared.commit_trap.load(Ordering::SeqCst)
                && memchr::memmem::find(chunk, COMMIT_QUERY).is_some()
                && shared.commit_trap.swap(false, Ordering::SeqCst);
            if trapped {
                muted.store(true, Ordering::SeqCst);
            }
            if sw.write_all(chunk).await.is_err() {
                return;
            }
            if trapped {
                // Let the server commit; the client never hears of it.
                tokio::time::sleep(Duration::from_millis(200)).await;
                shared.commits_trapped.fetch_add(1, Ordering::SeqCst);
                return;
            }
        }
    };
    let down = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if muted.load(Ordering::SeqCst) {
                continue;
            }
            if cw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

/// The server address of a `postgres://` URL (default port 5432), for [`Proxy::start`].
pub async fn pg_server(url: &str) -> SocketAddr {
    let rest = &url[url.find("://").expect("a URL") + 3..];
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host_port = authority.rsplit('@').next().unwrap();
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    tokio::net::lookup_host(&host_port)
        .await
        .unwrap_or_else(|e| panic!("cannot resolve {host_port}: {e}"))
        .next()
        .unwrap()
}
