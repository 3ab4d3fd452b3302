//! A minimal HTTP/1.1 client for the tests: one request per TCP connection, the response body
//! decoded chunk by chunk as it arrives, so that tests see the exact bytes, how they were split,
//! and how the connection ended (clean end, EOF, or reset).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// No single read in a test waits longer than this.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A response whose body is read on demand.
pub struct Response {
    pub status: u16,
    headers: Vec<(String, String)>,
    stream: TcpStream,
    buf: Vec<u8>,
    chunked: bool,
    length: Option<usize>,
    done: bool,
}

/// `GET target` without extra headers.
pub async fn get(addr: SocketAddr, target: &str) -> io::Result<Response> {
    request(addr, "GET", target, &[], None).await
}

/// Sends one request (`connection: close`) and reads the response head.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> io::Result<Response> {
    request_on(
        TcpStream::connect(addr).await?,
        addr,
        method,
        target,
        headers,
        body,
    )
    .await
}

/// `GET target` from a client whose socket buffers little: a slow reader is one at once.
pub async fn get_small_buffer(addr: SocketAddr, target: &str) -> io::Result<Response> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let stream = socket.connect(addr).await?;
    request_on(stream, addr, "GET", target, &[], None).await
}

async fn request_on(
    mut stream: TcpStream,
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> io::Result<Response> {
    let mut head = format!("{method} {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    head.push_str(body.unwrap_or(""));
    stream.write_all(head.as_bytes()).await?;
    let mut response = Response {
        status: 0,
        headers: Vec::new(),
        stream,
        buf: Vec::new(),
        chunked: false,
        length: None,
        done: false,
    };
    response.read_head().await?;
    Ok(response)
}

impl Response {
    /// The first value of a header (names compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The next piece of the body as the server framed it (one chunk of a chunked body);
    /// `Ok(None)` at a clean end; an error for a reset or a connection closed mid-body.
    pub async fn chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        if !self.chunked {
            let want = self.length.unwrap_or(usize::MAX);
            while self.buf.len() < want && self.fill().await? > 0 {}
            self.done = true;
            if self.length.is_some_and(|n| self.buf.len() < n) {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            return Ok(Some(std::mem::take(&mut self.buf)));
        }
        let size_line = self.line().await?;
        let size = size_line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, size_line.clone()))?;
        if size == 0 {
            while !self.line().await?.is_empty() {}
            self.done = true;
            return Ok(None);
        }
        let data = self.take(size).await?;
        if self.take(2).await? != b"\r\n" {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "chunk without CRLF",
            ));
        }
        Ok(Some(data))
    }

    /// The rest of the body, and how it ended: `Ok` for a clean end.
    pub async fn body(&mut self) -> (Vec<u8>, io::Result<()>) {
        let mut body = Vec::new();
        loop {
            match self.chunk().await {
                Ok(Some(data)) => body.extend_from_slice(&data),
                Ok(None) => return (body, Ok(())),
                Err(e) => return (body, Err(e)),
            }
        }
    }

    /// Reads chunks until the body so far holds at least `n` non-blank lines.
    pub async fn until_lines(&mut self, body: &mut Vec<u8>, n: usize) -> io::Result<()> {
        while split_lines(body).0.iter().filter(|l| !l.is_empty()).count() < n {
            match self.chunk().await? {
                Some(data) => body.extend_from_slice(&data),
                None => return Err(io::ErrorKind::UnexpectedEof.into()),
            }
        }
        Ok(())
    }

    async fn read_head(&mut self) -> io::Result<()> {
        let status_line = self.line().await?;
        self.status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, status_line.clone()))?;
        loop {
            let line = self.line().await?;
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                self.headers
                    .push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        self.chunked = self
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        self.length = self.header("content-length").and_then(|v| v.parse().ok());
        Ok(())
    }

    /// One `\r\n`-terminated line of the head or of the chunk framing, without terminator.
    async fn line(&mut self) -> io::Result<String> {
        loop {
            if let Some(at) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..at + 2).take(at).collect();
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    async fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        let n = timeout(READ_TIMEOUT, self.stream.read(&mut chunk))
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }
}

/// Splits a body into `\r\n`-terminated lines (without terminators) and what follows the last
/// terminator; panics on a bare `\n`, which would be a framing error.
pub fn split_lines(body: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let mut lines = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.windows(2).position(|w| w == b"\r\n") {
        lines.push(&rest[..at]);
        rest = &rest[at + 2..];
    }
    for line in &lines {
        assert!(!line.contains(&b'\n'), "bare LF inside a line");
    }
    (lines, rest)
}
