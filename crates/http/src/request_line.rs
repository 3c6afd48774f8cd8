//! Raw UTF-8 in a request's target, percent-encoded before HTTP parsing.
//!
//! `curl 'http://host/api/v1/customers?name=燕京建设'` sends the name's
//! UTF-8 bytes as they are; browsers and HTTP libraries percent-encode them.
//! A target with bytes above 0x7F is not a URI (RFC 3986), and actix-http
//! refused it with a bare 400 before any of our code ran: no problem
//! document, no request id. Like nginx, the server takes such a target as
//! its percent-encoding, so the query means what the user typed and a path
//! that names nothing gets the API's own 404.
//!
//! [`EncodedTargets`] wraps each accepted connection and rewrites the bytes
//! it reads. It follows the requests on the connection: the request line,
//! the header lines until the blank line, then a body of the length its one
//! `Content-Length` gives, passed as it is, and the next request. Where it
//! could disagree with the HTTP parser on where a body ends, it stops
//! rewriting for the rest of the connection, so a body is never touched:
//! after any `Transfer-Encoding` (chunks it does not follow), a length that
//! is not plain digits or two lengths that differ (the parser refuses those
//! and closes the connection), an `Upgrade` header or a `CONNECT` (after
//! which actix-http reads the connection to its end). Bytes below 0x80 pass
//! unchanged, and a connection that sends none above it is never copied.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Where the scanner stands in the bytes of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// In a request line (or in the blank lines that may precede one);
    /// `read` counts its bytes so far.
    RequestLine { read: usize },
    /// In the header section; `line` counts the bytes of the current line.
    Headers,
    /// In a body of known length, with this many bytes left: they pass as
    /// they are.
    Body { left: u64 },
    /// Framing the scanner does not follow: everything from here passes as
    /// it is.
    Through,
}

/// Which header the current header line is, as far as the scanner cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    /// Still reading the name (this many bytes of it so far).
    Reading(usize),
    ContentLength,
    /// `Transfer-Encoding` or `Upgrade`: the connection carries more than heads.
    Framing,
    Other,
}

/// The byte-level scanner: pure, fed chunk by chunk as the bytes arrive.
#[derive(Debug)]
pub(crate) struct TargetEncoder {
    stage: Stage,
    /// The current header line: its name so far, lower-cased.
    name: [u8; 17],
    named: Named,
    /// A `Content-Length` value so far (all but spaces and tabs), capped.
    value: [u8; 20],
    value_len: usize,
    value_long: bool,
    /// Bytes of the current header line before its end of line.
    line: usize,
    /// The first bytes of the current request line.
    method: [u8; 8],
    /// The current request's `Content-Length`, once one was read.
    length: Option<u64>,
    /// The current request's framing is one the scanner does not follow.
    unfollowed: bool,
}

const CONTENT_LENGTH: &[u8] = b"content-length";
const TRANSFER_ENCODING: &[u8] = b"transfer-encoding";
const UPGRADE: &[u8] = b"upgrade";

impl TargetEncoder {
    pub(crate) fn new() -> Self {
        TargetEncoder {
            stage: Stage::RequestLine { read: 0 },
            name: [0; 17],
            named: Named::Reading(0),
            value: [0; 20],
            value_len: 0,
            value_long: false,
            line: 0,
            method: [0; 8],
            length: None,
            unfollowed: false,
        }
    }

    /// Nothing more will be rewritten on this connection.
    pub(crate) fn passes_through(&self) -> bool {
        self.stage == Stage::Through
    }

    /// Scans `input`, the next bytes of the connection. Returns the bytes to
    /// hand on when they differ from `input`, or `None` when `input` passes
    /// as it is (no copy).
    pub(crate) fn feed(&mut self, input: &[u8]) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        let mut i = 0;
        while i < input.len() {
            match self.stage {
                Stage::Through => {
                    if let Some(o) = out.as_mut() {
                        o.extend_from_slice(&input[i..]);
                    }
                    break;
                }
                Stage::Body { left } => {
                    let take = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(input.len() - i);
                    if let Some(o) = out.as_mut() {
                        o.extend_from_slice(&input[i..i + take]);
                    }
                    i += take;
                    // `take` fits in a u64: it is at most `left`.
                    self.stage = match left - take as u64 {
                        0 => Stage::RequestLine { read: 0 },
                        left => Stage::Body { left },
                    };
                    continue;
                }
                // The rest of a header line whose name is known changes
                // nothing but where the line ends (a token's value is long).
                Stage::Headers if matches!(self.named, Named::Other | Named::Framing) => {
                    let skip = memchr::memchr(b'\n', &input[i..]).unwrap_or(input.len() - i);
                    if let Some(o) = out.as_mut() {
                        o.extend_from_slice(&input[i..i + skip]);
                    }
                    i += skip;
                    if i == input.len() {
                        break;
                    }
                }
                _ => {}
            }
            let b = input[i];
            if matches!(self.stage, Stage::RequestLine { .. }) && b >= 0x80 {
                let o = out.get_or_insert_with(|| {
                    let mut v = Vec::with_capacity(input.len() + 16);
                    v.extend_from_slice(&input[..i]);
                    v
                });
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                o.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            } else if let Some(o) = out.as_mut() {
                o.push(b);
            }
            self.step(b);
            i += 1;
        }
        out
    }

    fn step(&mut self, b: u8) {
        match self.stage {
            Stage::RequestLine { read } => match b {
                b'\n' if read == 0 => {} // a blank line before the request line
                b'\n' => self.start_headers(),
                b'\r' => {}
                _ => {
                    if let Some(m) = self.method.get_mut(read) {
                        *m = b;
                    }
                    self.stage = Stage::RequestLine { read: read + 1 };
                }
            },
            Stage::Headers => match b {
                b'\n' if self.line == 0 => self.end_headers(),
                b'\n' => self.end_header_line(),
                b'\r' => {}
                _ => {
                    self.line += 1;
                    self.header_byte(b);
                }
            },
            Stage::Body { .. } | Stage::Through => {}
        }
    }

    fn start_headers(&mut self) {
        self.stage = Stage::Headers;
        self.length = None;
        self.unfollowed = &self.method == b"CONNECT ";
        self.new_header_line();
    }

    fn new_header_line(&mut self) {
        self.line = 0;
        self.named = Named::Reading(0);
        self.value_len = 0;
        self.value_long = false;
    }

    fn header_byte(&mut self, b: u8) {
        match self.named {
            Named::Reading(n) if b == b':' => {
                let name = &self.name[..n];
                self.named = if name == CONTENT_LENGTH {
                    Named::ContentLength
                } else if name == TRANSFER_ENCODING || name == UPGRADE {
                    Named::Framing
                } else {
                    Named::Other
                };
            }
            Named::Reading(n) if n < self.name.len() => {
                self.name[n] = b.to_ascii_lowercase();
                self.named = Named::Reading(n + 1);
            }
            Named::Reading(_) => self.named = Named::Other,
            Named::ContentLength if b != b' ' && b != b'\t' => {
                if self.value_len < self.value.len() {
                    self.value[self.value_len] = b;
                    self.value_len += 1;
                } else {
                    self.value_long = true;
                }
            }
            _ => {}
        }
    }

    fn end_header_line(&mut self) {
        match self.named {
            Named::Framing => self.unfollowed = true,
            Named::ContentLength => match (self.announced(), self.length) {
                // A bad value, or a second length that differs: the parser
                // refuses the request, and nothing after it is followed.
                (None, _) => self.unfollowed = true,
                (Some(n), Some(m)) if n != m => self.unfollowed = true,
                (n, _) => self.length = n,
            },
            _ => {}
        }
        self.new_header_line();
    }

    /// The `Content-Length` value just read, if it is plain digits that fit.
    fn announced(&self) -> Option<u64> {
        let digits = &self.value[..self.value_len];
        // `parse` alone would also take a sign (`+1`).
        if self.value_long || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    }

    fn end_headers(&mut self) {
        self.stage = match (self.unfollowed, self.length) {
            (true, _) => Stage::Through,
            (false, Some(left)) if left > 0 => Stage::Body { left },
            (false, _) => Stage::RequestLine { read: 0 },
        };
        self.method = [0; 8];
    }
}

/// A connection whose request targets reach the HTTP parser percent-encoded.
pub struct EncodedTargets<T> {
    io: T,
    encoder: TargetEncoder,
    /// Rewritten bytes not yet handed on, from `pending[at..]`.
    pending: Vec<u8>,
    at: usize,
}

impl<T> EncodedTargets<T> {
    pub fn new(io: T) -> Self {
        EncodedTargets {
            io,
            encoder: TargetEncoder::new(),
            pending: Vec::new(),
            at: 0,
        }
    }

    /// Hands on as much of the pending bytes as `buf` takes.
    fn drain(&mut self, buf: &mut ReadBuf<'_>) {
        let n = buf.remaining().min(self.pending.len() - self.at);
        buf.put_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        if self.at == self.pending.len() {
            self.pending.clear();
            self.at = 0;
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for EncodedTargets<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.pending.len() {
            this.drain(buf);
            return Poll::Ready(Ok(()));
        }
        if this.encoder.passes_through() {
            return Pin::new(&mut this.io).poll_read(cx, buf);
        }
        let start = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        if let Some(rewritten) = this.encoder.feed(&buf.filled()[start..]) {
            buf.set_filled(start);
            this.pending = rewritten;
            this.at = 0;
            this.drain(buf);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for EncodedTargets<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::TargetEncoder;

    /// Feeds `input` in chunks of `size` bytes and joins what comes out.
    fn through(input: &[u8], size: usize) -> Vec<u8> {
        let mut e = TargetEncoder::new();
        let mut out = Vec::new();
        for chunk in input.chunks(size) {
            match e.feed(chunk) {
                Some(v) => out.extend_from_slice(&v),
                None => out.extend_from_slice(chunk),
            }
        }
        out
    }

    fn every_split(input: &[u8], expected: &[u8]) {
        for size in 1..=input.len() {
            assert_eq!(
                String::from_utf8_lossy(&through(input, size)),
                String::from_utf8_lossy(expected),
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn a_raw_target_is_percent_encoded() {
        every_split(
            "GET /api/v1/customers?name=燕京 HTTP/1.1\r\nHost: x\r\n\r\n".as_bytes(),
            b"GET /api/v1/customers?name=%E7%87%95%E4%BA%AC HTTP/1.1\r\nHost: x\r\n\r\n",
        );
    }

    #[test]
    fn an_ascii_connection_is_never_copied() {
        let mut e = TargetEncoder::new();
        let req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Name: \xe7\x87\x95\r\n\r\n";
        assert_eq!(e.feed(req), None, "header bytes are the parser's business");
        assert_eq!(e.feed(req), None);
    }

    #[test]
    fn every_request_without_a_body_is_encoded() {
        let one = "GET /a?q=天 HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
        let two = "GET /b?q=津 HTTP/1.1\r\n\r\n";
        every_split(
            format!("\r\n{one}{two}").as_bytes(),
            b"\r\nGET /a?q=%E5%A4%A9 HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET /b?q=%E6%B4%A5 HTTP/1.1\r\n\r\n",
        );
    }

    #[test]
    fn a_body_of_known_length_passes_and_the_next_request_is_encoded() {
        let input = "POST /a?q=天 HTTP/1.1\r\ncontent-LENGTH:  11 \r\nContent-Length: 11\r\n\r\n{\"n\":\"津\"}GET /b?q=津 HTTP/1.1\r\n\r\n";
        every_split(
            input.as_bytes(),
            "POST /a?q=%E5%A4%A9 HTTP/1.1\r\ncontent-LENGTH:  11 \r\nContent-Length: 11\r\n\r\n{\"n\":\"津\"}GET /b?q=%E6%B4%A5 HTTP/1.1\r\n\r\n".as_bytes(),
        );
        // A body that looks like a request is still a body.
        let inner = "GET /天 HTTP/1.1\r\n\r\n";
        let input = format!(
            "POST /a HTTP/1.1\r\nContent-Length: {}\r\n\r\n{inner}GET /津 HTTP/1.1\r\n\r\n",
            inner.len()
        );
        let expected = format!(
            "POST /a HTTP/1.1\r\nContent-Length: {}\r\n\r\n{inner}GET /%E6%B4%A5 HTTP/1.1\r\n\r\n",
            inner.len()
        );
        every_split(input.as_bytes(), expected.as_bytes());
    }

    #[test]
    fn framing_it_does_not_follow_ends_the_rewriting() {
        let chunked = "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n津\r\n0\r\n\r\nGET /天 HTTP/1.1\r\n\r\n";
        every_split(chunked.as_bytes(), chunked.as_bytes());
        for length in [
            "00000000000000000000001",
            "99999999999999999999",
            "1, 1",
            "+1",
            "",
        ] {
            let bad = format!(
                "POST /a HTTP/1.1\r\nContent-Length: {length}\r\n\r\n津GET /天 HTTP/1.1\r\n\r\n"
            );
            every_split(bad.as_bytes(), bad.as_bytes());
        }
        let two = "POST /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n津GET /天 HTTP/1.1\r\n\r\n";
        every_split(two.as_bytes(), two.as_bytes());
    }

    #[test]
    fn an_upgrade_or_a_connect_ends_the_rewriting() {
        let upgrade = "GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUPGRADE: websocket\r\n\r\n天GET /天 HTTP/1.1\r\n\r\n";
        every_split(upgrade.as_bytes(), upgrade.as_bytes());
        let connect = "CONNECT host:443 HTTP/1.1\r\n\r\n天GET /天 HTTP/1.1\r\n\r\n";
        every_split(connect.as_bytes(), connect.as_bytes());
        let near = "CONNECTX /天 HTTP/1.1\r\n\r\n";
        every_split(near.as_bytes(), b"CONNECTX /%E5%A4%A9 HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn header_names_like_the_framing_ones_do_not_count() {
        let input = "GET /天 HTTP/1.1\r\nX-Content-Length: 5\r\nContent-Lengths: 5\r\n\r\nGET /津 HTTP/1.1\r\n\r\n";
        every_split(
            input.as_bytes(),
            b"GET /%E5%A4%A9 HTTP/1.1\r\nX-Content-Length: 5\r\nContent-Lengths: 5\r\n\r\nGET /%E6%B4%A5 HTTP/1.1\r\n\r\n",
        );
    }

    /// Random connections against a model of what must come out: each
    /// request line encoded until the first request framed by
    /// `Transfer-Encoding`, every other byte (bodies of a given length
    /// among them) as it was; whatever the reads' sizes.
    #[test]
    fn random_connections_match_the_model() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(20261206);
        let encode = |line: &[u8]| -> Vec<u8> {
            line.iter()
                .flat_map(|&b| {
                    if b >= 0x80 {
                        format!("%{b:02X}").into_bytes()
                    } else {
                        vec![b]
                    }
                })
                .collect()
        };
        for _ in 0..300 {
            let (mut input, mut expected) = (Vec::new(), Vec::new());
            let mut rewriting = true;
            for _ in 0..rng.gen_range(1..5) {
                let target: Vec<u8> = (0..rng.gen_range(1..12))
                    .map(|_| match rng.gen_range(0..4) {
                        0 => 0xE4,
                        1 => 0xB8 + rng.gen_range(0..8),
                        _ => b'a' + rng.gen_range(0..26),
                    })
                    .collect();
                let line = [b"GET /".as_slice(), &target, b" HTTP/1.1\r\n"].concat();
                let body: Vec<u8> = match rng.gen_range(0..4) {
                    0 => "GET /天 HTTP/1.1\r\n\r\n".as_bytes().to_vec(),
                    1 => vec![0xE5; rng.gen_range(1..9)],
                    _ => Vec::new(),
                };
                let mut head = b"Host: x\r\nAuthorization: Bearer abc.def\r\n".to_vec();
                let mut unfollowed = false;
                match (body.is_empty(), rng.gen_range(0..3)) {
                    (true, 0) => head.extend_from_slice(b"Content-Length: 0\r\n"),
                    (false, 0) => {
                        head.extend_from_slice(b"Transfer-Encoding: identity\r\n");
                        unfollowed = true;
                    }
                    (false, _) => head.extend_from_slice(
                        format!("content-length: {}\r\n", body.len()).as_bytes(),
                    ),
                    (true, _) => {}
                }
                head.extend_from_slice(b"\r\n");
                input.extend_from_slice(&line);
                expected.extend_from_slice(&if rewriting {
                    encode(&line)
                } else {
                    line.clone()
                });
                for part in [&head, &body] {
                    input.extend_from_slice(part);
                    expected.extend_from_slice(part);
                }
                rewriting &= !unfollowed;
            }
            let size = rng.gen_range(1..input.len() + 1);
            assert_eq!(
                String::from_utf8_lossy(&through(&input, size)),
                String::from_utf8_lossy(&expected),
                "chunks of {size}"
            );
        }
    }
}
