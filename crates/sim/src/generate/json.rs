//! JSON output written straight into a byte buffer: string escaping, integers, coordinates
//! and Twitter's date format.

use super::words::HEX;

/// How strings are escaped on one line. Twitter escaped `/` as `\/`, and some clients and
/// proxies re-encode everything non-ASCII as `\uXXXX`; consumers must accept both.
#[derive(Clone, Copy, Debug)]
pub(super) struct Esc {
    pub(super) slash: bool,
    pub(super) ascii: bool,
}

/// A `,` before every element of a list but the first.
pub(super) fn comma(out: &mut Vec<u8>, sep: &mut bool) {
    if *sep {
        out.push(b',');
    }
    *sep = true;
}

/// An entity's `indices` member.
pub(super) fn put_indices(out: &mut Vec<u8>, c0: u32, c1: u32) {
    out.extend_from_slice(b",\"indices\":[");
    put_u64(out, c0 as u64);
    out.push(b',');
    put_u64(out, c1 as u64);
    out.push(b']');
}

/// Writes `s` as a JSON string literal, quotes included.
pub(super) fn put_str(out: &mut Vec<u8>, s: &str, esc: Esc) {
    out.push(b'"');
    put_str_body(out, s, esc);
    out.push(b'"');
}

/// Writes the escaped contents of a JSON string literal: `"`, `\` and control characters always
/// escaped; `/` as `\/` and non-ASCII as `\uXXXX` (surrogate pairs above U+FFFF) when `esc` asks.
pub(super) fn put_str_body(out: &mut Vec<u8>, s: &str, esc: Esc) {
    let table = &ESCAPE_TABLES[usize::from(esc.slash) | usize::from(esc.ascii) << 1];
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    loop {
        while i < bytes.len() && !table[bytes[i] as usize] {
            i += 1;
        }
        out.extend_from_slice(&bytes[start..i]);
        let Some(&b) = bytes.get(i) else { break };
        if b >= 0x80 {
            let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                put_u_escape(out, *unit);
            }
            i += ch.len_utf8();
        } else {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'/' => out.extend_from_slice(b"\\/"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                _ => put_u_escape(out, b as u16),
            }
            i += 1;
        }
        start = i;
    }
}

/// Which bytes need escaping, indexed by `slash | ascii << 1`.
const ESCAPE_TABLES: [[bool; 256]; 4] = [
    escape_table(false, false),
    escape_table(true, false),
    escape_table(false, true),
    escape_table(true, true),
];

const fn escape_table(slash: bool, ascii: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b < 0x20
            || b == b'"' as usize
            || b == b'\\' as usize
            || (slash && b == b'/' as usize)
            || (ascii && b >= 0x80);
        b += 1;
    }
    t
}

/// A `\uXXXX` escape of one UTF-16 unit.
fn put_u_escape(out: &mut Vec<u8>, unit: u16) {
    out.extend_from_slice(b"\\u");
    for k in (0..4).rev() {
        out.push(HEX[((unit >> (k * 4)) & 15) as usize]);
    }
}

/// A decimal integer, without going through `fmt`.
pub(super) fn put_u64(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let start = fmt_u64(v, &mut buf);
    out.extend_from_slice(&buf[start..]);
}

/// Formats `v` at the end of `buf`, two digits at a time; returns where the digits start.
fn fmt_u64(mut v: u64, buf: &mut [u8; 20]) -> usize {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut i = buf.len();
    while v >= 100 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[d..d + 2]);
    }
    if v >= 10 {
        let d = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[d..d + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    i
}

/// A decimal integer appended to a string, for URLs.
pub(super) fn push_u64_str(s: &mut String, v: u64) {
    let mut buf = [0u8; 20];
    let start = fmt_u64(v, &mut buf);
    s.extend(buf[start..].iter().map(|&b| b as char));
}

/// Micro-degrees as a decimal number without trailing zeros, e.g. `13.404954` or `-3.7`.
pub(super) fn put_micro(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    let a = v.unsigned_abs();
    put_u64(out, a / 1_000_000);
    let mut frac = a % 1_000_000;
    out.push(b'.');
    let mut digits = 6;
    while digits > 1 && frac % 10 == 0 {
        frac /= 10;
        digits -= 1;
    }
    let mut buf = [b'0'; 6];
    for k in (0..digits).rev() {
        buf[k] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&buf[..digits]);
}

/// 16 lowercase hex digits, as in place ids.
pub(super) fn put_hex16(out: &mut Vec<u8>, v: u64) {
    for k in (0..16).rev() {
        out.push(HEX[((v >> (k * 4)) & 15) as usize]);
    }
}

/// Two decimal digits, for dates.
fn put_2(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// Twitter's date format, `Wed Oct 10 20:19:24 +0000 2018`, always UTC.
pub(super) fn put_date(out: &mut Vec<u8>, ms: i64) {
    const DAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as usize;
    let year = yoe + era * 400 + i64::from(month <= 2);
    out.extend_from_slice(DAYS[(days + 4).rem_euclid(7) as usize]);
    out.push(b' ');
    out.extend_from_slice(MONTHS[month - 1]);
    out.push(b' ');
    put_2(out, day);
    out.push(b' ');
    put_2(out, sod / 3600);
    out.push(b':');
    put_2(out, sod / 60 % 60);
    out.push(b':');
    put_2(out, sod % 60);
    out.extend_from_slice(b" +0000 ");
    put_u64(out, year as u64);
}
