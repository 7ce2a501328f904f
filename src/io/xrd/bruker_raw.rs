//! Siemens/Bruker DIFFRAC RAW, versions 1 (`RAW `), 2 (`RAW2`), 3
//! (`RAW1.01`, DIFFRAC^plus) and 4 (`RAW4.00`, DIFFRAC.SUITE).
//!
//! Layouts from the DIFFRAC^plus XCH 5.0 manual, appendix A (version 3),
//! as implemented in xylib (`bruker_raw.cpp`) and GSAS-II
//! (`G2pwd_BrukerRAW.py`), which this reader was checked against. All
//! numbers are little-endian; counts are float32. A file may hold several
//! ranges: [`read`] returns the first, [`read_all`] every one.

use super::XrdPattern;
use crate::io::ParseError;

/// The RAW version from the magic bytes, or `None` when it is not a RAW.
pub fn version_of(bytes: &[u8]) -> Option<u8> {
    if bytes.starts_with(b"RAW1.01") {
        Some(3)
    } else if bytes.starts_with(b"RAW4.00") {
        Some(4)
    } else if bytes.starts_with(b"RAW2") {
        Some(2)
    } else if bytes.starts_with(b"RAW ") {
        Some(1)
    } else {
        None
    }
}

/// Little-endian reads at absolute offsets; a read past the end is a
/// `ParseError` naming the field and the offset.
struct Bytes<'a> {
    b: &'a [u8],
    file: &'a str,
}

impl Bytes<'_> {
    fn take<const N: usize>(&self, at: usize, field: &str) -> Result<[u8; N], ParseError> {
        at.checked_add(N)
            .and_then(|end| self.b.get(at..end))
            .and_then(|s| <[u8; N]>::try_from(s).ok())
            .ok_or_else(|| {
                ParseError::new(
                    self.file,
                    format!(
                        "file truncated: {N} bytes needed at byte {at}, the file has {}",
                        self.b.len()
                    ),
                )
                .field(field)
            })
    }
    fn u16(&self, at: usize, field: &str) -> Result<u16, ParseError> {
        self.take(at, field).map(u16::from_le_bytes)
    }
    fn u32(&self, at: usize, field: &str) -> Result<u32, ParseError> {
        self.take(at, field).map(u32::from_le_bytes)
    }
    fn f32(&self, at: usize, field: &str) -> Result<f64, ParseError> {
        self.take(at, field)
            .map(|b| f64::from(f32::from_le_bytes(b)))
    }
    fn f64(&self, at: usize, field: &str) -> Result<f64, ParseError> {
        self.take(at, field).map(f64::from_le_bytes)
    }
    /// A fixed-width, NUL-padded Latin-1 string; empty when the file is
    /// too short (strings are only metadata).
    fn str(&self, at: usize, len: usize) -> String {
        let s = self.b.get(at..at.saturating_add(len)).unwrap_or(&[]);
        let s = s.split(|&c| c == 0).next().unwrap_or(&[]);
        s.iter()
            .map(|&c| char::from(c))
            .collect::<String>()
            .trim()
            .to_owned()
    }
    /// `n` float32 counts from `at`.
    fn counts(&self, at: usize, n: usize, field: &str) -> Result<Vec<f64>, ParseError> {
        let len = n.checked_mul(4).and_then(|l| at.checked_add(l));
        let Some(data) = len.and_then(|end| self.b.get(at..end)) else {
            return Err(ParseError::new(
                self.file,
                format!(
                    "file truncated: {n} counts (4 bytes each) expected from byte {at}, the file has {} bytes",
                    self.b.len()
                ),
            )
            .field(field));
        };
        Ok(data
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect())
    }
    fn err(&self, field: &str, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.file, msg).field(field)
    }
}

/// One scan range before it becomes a pattern.
struct Range {
    start: f64,
    step: f64,
    counts: Vec<f64>,
    wavelength: Option<f64>,
    meta: Vec<(String, String)>,
}

fn kv(k: &str, v: impl ToString) -> (String, String) {
    (k.to_owned(), v.to_string())
}

/// The first range of a RAW file as a pattern.
pub fn read(bytes: &[u8], file: &str) -> Result<XrdPattern, ParseError> {
    let mut all = read_all(bytes, file)?;
    let n = all.len();
    let mut first = all.swap_remove(0);
    first.metadata.push(kv("ranges in file", n));
    Ok(first)
}

/// Every range of a RAW file, in file order (at least one).
pub fn read_all(bytes: &[u8], file: &str) -> Result<Vec<XrdPattern>, ParseError> {
    let b = Bytes { b: bytes, file };
    let version =
        version_of(bytes).ok_or_else(|| b.err("magic", "not a Bruker RAW file (no RAW magic)"))?;
    let (global, ranges) = match version {
        1 => v1(&b)?,
        2 => v2(&b)?,
        3 => v3(&b)?,
        _ => v4(&b)?,
    };
    if ranges.is_empty() {
        return Err(b.err("ranges", "the file holds no readable scan range"));
    }
    let format = match version {
        1 => "bruker_raw_v1",
        2 => "bruker_raw_v2",
        3 => "bruker_raw_v3",
        _ => "bruker_raw_v4",
    };
    ranges
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            if !(r.step.is_finite() && r.start.is_finite()) {
                return Err(b.err(
                    &format!("range {}: start/step", i + 1),
                    format!("start {} and step {} are not finite", r.start, r.step),
                ));
            }
            let two_theta_deg = (0..r.counts.len())
                .map(|k| r.start + k as f64 * r.step)
                .collect();
            let mut metadata = global.clone();
            metadata.push(kv("range", i + 1));
            metadata.extend(r.meta);
            XrdPattern::checked(
                file,
                format,
                two_theta_deg,
                r.counts,
                None,
                r.wavelength.filter(|&l| l > 0.0 && l.is_finite()),
                metadata,
            )
        })
        .collect()
}

/// A step count as usize; a range without steps is an error. (Counts are
/// sliced from the file before anything is allocated, so a huge count is
/// caught there as truncation.)
fn steps_ok(b: &Bytes, steps: u64, field: &str) -> Result<usize, ParseError> {
    usize::try_from(steps)
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| b.err(field, format!("{steps} steps: the range is empty")))
}

type Parsed = (Vec<(String, String)>, Vec<Range>);

/// Version 1: a 152-byte header before each range's counts; later ranges
/// may repeat the `RAW ` magic.
fn v1(b: &Bytes) -> Result<Parsed, ParseError> {
    let mut ranges = Vec::new();
    let mut r = 4;
    loop {
        let n = ranges.len() + 1;
        let f = |name: &str| format!("range {n}: {name}");
        if n > 1 && b.b.get(r..r + 4) == Some(b"RAW ") {
            r += 4;
        }
        let steps = steps_ok(b, u64::from(b.u32(r, &f("steps"))?), &f("steps"))?;
        let step = b.f32(r + 8, &f("step size"))?;
        let start = b.f32(r + 20, &f("start 2theta"))?;
        let ka1 = b.f32(r + 68, &f("K-alpha1"))?;
        let ka2 = b.f32(r + 72, &f("K-alpha2"))?;
        let following = b.u32(r + 148, &f("following range"))?;
        let counts = b.counts(r + 152, steps, &f("counts"))?;
        let meta = vec![
            kv("time per step", b.f32(r + 4, &f("time per step"))?),
            kv("sample", b.str(r + 36, 32)),
            kv("K-alpha1", ka1),
            kv("K-alpha2", ka2),
        ];
        r += 152 + 4 * steps;
        ranges.push(Range {
            start,
            step,
            counts,
            wavelength: Some(ka1),
            meta,
        });
        if following == 0 || r >= b.b.len() {
            break;
        }
    }
    Ok((Vec::new(), ranges))
}

/// Version 2: a 256-byte file header, then ranges with their own header
/// length (u16) and step count (u16).
fn v2(b: &Bytes) -> Result<Parsed, ParseError> {
    let nranges = b.u16(4, "range count")?;
    let ka1 = b.f32(190, "K-alpha1")?;
    let global = vec![
        kv("date/time", b.str(168, 20)),
        kv("anode", b.str(188, 2)),
        kv("K-alpha1", ka1),
        kv("K-alpha2", b.f32(194, "K-alpha2")?),
        kv("K-alpha2/K-alpha1", b.f32(198, "intensity ratio")?),
    ];
    let mut ranges = Vec::new();
    let mut r = 256;
    for n in 1..=nranges {
        let f = |name: &str| format!("range {n}: {name}");
        let header_len = usize::from(b.u16(r, &f("header length"))?);
        if header_len < 48 {
            return Err(b.err(
                &f("header length"),
                format!("header length {header_len} at byte {r} is below the 48-byte minimum"),
            ));
        }
        let steps = steps_ok(b, u64::from(b.u16(r + 2, &f("steps"))?), &f("steps"))?;
        let meta = vec![
            kv("time per step", b.f32(r + 8, &f("time per step"))?),
            kv("temperature (K)", b.u16(r + 46, &f("temperature"))?),
        ];
        let step = b.f32(r + 12, &f("step size"))?;
        let start = b.f32(r + 16, &f("start 2theta"))?;
        let counts = b.counts(r + header_len, steps, &f("counts"))?;
        r += header_len + 4 * steps;
        ranges.push(Range {
            start,
            step,
            counts,
            wavelength: Some(ka1),
            meta,
        });
    }
    Ok((global, ranges))
}

/// Version 3 (`RAW1.01`): a 712-byte file header, then per range a header
/// (304 bytes), optional supplementary headers and the counts.
fn v3(b: &Bytes) -> Result<Parsed, ParseError> {
    let nranges = b.u32(12, "range count")?;
    let ka1 = b.f64(624, "K-alpha1")?;
    let status = match b.u32(8, "file status")? {
        1 => "done",
        2 => "active",
        3 => "aborted",
        4 => "interrupted",
        _ => "unknown",
    };
    let global = vec![
        kv("file status", status),
        kv("date", b.str(16, 10)),
        kv("time", b.str(26, 10)),
        kv("user", b.str(36, 72)),
        kv("site", b.str(108, 218)),
        kv("sample", b.str(326, 60)),
        kv("comment", b.str(386, 160)),
        kv("anode", b.str(608, 4)),
        kv("K-alpha average", b.f64(616, "K-alpha average")?),
        kv("K-alpha1", ka1),
        kv("K-alpha2", b.f64(632, "K-alpha2")?),
        kv("K-beta", b.f64(640, "K-beta")?),
        kv("K-alpha2/K-alpha1", b.f64(648, "intensity ratio")?),
    ];
    let mut ranges = Vec::new();
    let mut r = 712;
    for n in 1..=nranges {
        let f = |name: &str| format!("range {n}: {name}");
        let header_len = b.u32(r, &f("header length"))? as usize;
        if header_len < 304 {
            return Err(b.err(
                &f("header length"),
                format!("header length {header_len} at byte {r} (304 expected)"),
            ));
        }
        let steps = steps_ok(b, u64::from(b.u32(r + 4, &f("steps"))?), &f("steps"))?;
        let start = b.f64(r + 16, &f("start 2theta"))?;
        let step = b.f64(r + 176, &f("step size"))?;
        let used = b.f64(r + 240, &f("used wavelength"))?;
        let supp = b.u32(r + 256, &f("supplementary header size"))? as usize;
        let meta = vec![
            kv("start theta", b.f64(r + 8, &f("start theta"))?),
            kv("time per step", b.f32(r + 192, &f("time per step"))?),
            kv(
                "generator voltage (kV)",
                b.u32(r + 224, &f("generator voltage"))?,
            ),
            kv(
                "generator current (mA)",
                b.u32(r + 228, &f("generator current"))?,
            ),
            kv("used wavelength", used),
        ];
        let data = r
            .checked_add(header_len)
            .and_then(|d| d.checked_add(supp))
            .ok_or_else(|| b.err(&f("supplementary header size"), "offset overflow"))?;
        let counts = b.counts(data, steps, &f("counts"))?;
        r = data + 4 * steps;
        ranges.push(Range {
            start,
            step,
            counts,
            wavelength: Some(if used > 0.0 { used } else { ka1 }),
            meta,
        });
    }
    Ok((global, ranges))
}

/// Version 4 (`RAW4.00`): a 61-byte header, typed metadata records
/// (type, length, …) up to the first range (record type 0 or 160), then
/// ranges: a 160-byte header, `hdr_size` bytes of axis records, counts.
fn v4(b: &Bytes) -> Result<Parsed, ParseError> {
    let mut global = vec![kv("date", b.str(12, 12)), kv("time", b.str(24, 10))];
    let mut ka1 = None;
    let mut r = 61;
    let mut ty = b.u32(r, "record type")?;
    while ty != 0 && ty != 160 {
        let len = b.u32(r + 4, "record length")? as usize;
        if len < 8 {
            return Err(b.err(
                "record length",
                format!("record of type {ty} at byte {r} has length {len} (< 8)"),
            ));
        }
        match ty {
            10 if len >= 36 => {
                let tag = b.str(r + 12, 24);
                global.push((tag, b.str(r + 36, len - 36)));
            }
            30 if len >= 120 => {
                let a1 = b.f64(r + 80, "K-alpha1")?;
                ka1 = Some(a1);
                global.extend([
                    kv("K-alpha average", b.f64(r + 72, "K-alpha average")?),
                    kv("K-alpha1", a1),
                    kv("K-alpha2", b.f64(r + 88, "K-alpha2")?),
                    kv("K-beta", b.f64(r + 96, "K-beta")?),
                    kv("K-alpha2/K-alpha1", b.f64(r + 104, "intensity ratio")?),
                    kv("anode", b.str(r + 116, 4)),
                ]);
            }
            _ => {}
        }
        r = r
            .checked_add(len)
            .ok_or_else(|| b.err("record length", "offset overflow"))?;
        ty = b.u32(r, "record type")?;
    }
    let mut ranges = Vec::new();
    let mut n = 0;
    loop {
        n += 1;
        let f = |name: &str| format!("range {n}: {name}");
        let scan_type = b.str(r + 32, 24);
        let mut start = b.f64(r + 72, &f("start angle"))?;
        let step = b.f64(r + 80, &f("step size"))?;
        let steps_raw = b.u32(r + 88, &f("steps"))?;
        let used = b.f64(r + 112, &f("used wavelength"))?;
        let datum = b.u32(r + 136, &f("datum size"))? as usize;
        let hdr = b.u32(r + 140, &f("additional header size"))? as usize;
        let data = r
            .checked_add(160)
            .and_then(|d| d.checked_add(hdr))
            .ok_or_else(|| b.err(&f("additional header size"), "offset overflow"))?;
        let coupled = matches!(
            scan_type.as_str(),
            "Locked Coupled" | "Unlocked Coupled" | "Detector Scan"
        );
        if coupled {
            let mut meta = vec![
                kv("scan type", &scan_type),
                kv("time per step", b.f32(r + 92, &f("time per step"))?),
                kv(
                    "generator voltage (kV)",
                    b.f32(r + 100, &f("generator voltage"))?,
                ),
                kv(
                    "generator current (mA)",
                    b.f32(r + 104, &f("generator current"))?,
                ),
                kv("used wavelength", used),
            ];
            // Axis records: a "2Theta" record's start wins over the
            // driving axis's start.
            let mut s = r + 160;
            while s < data {
                let len = b.u32(s + 4, &f("axis record length"))? as usize;
                if len < 8 {
                    return Err(b.err(
                        &f("axis record length"),
                        format!("record at byte {s} has length {len} (< 8)"),
                    ));
                }
                if b.u32(s, &f("axis record type"))? == 50 && len >= 64 {
                    let axis = b.str(s + 12, 24);
                    let v = b.f64(s + 56, &f("axis start"))?;
                    if axis == "2Theta" {
                        start = v;
                    }
                    meta.push((format!("start {axis}"), v.to_string()));
                }
                s = s.saturating_add(len);
            }
            if datum != 4 {
                return Err(b.err(
                    &f("datum size"),
                    format!("{datum}-byte data points (only 4-byte floats are known)"),
                ));
            }
            let steps = steps_ok(b, u64::from(steps_raw), &f("steps"))?;
            let counts = b.counts(data, steps, &f("counts"))?;
            ranges.push(Range {
                start,
                step,
                counts,
                wavelength: if used > 0.0 { Some(used) } else { ka1 },
                meta,
            });
        }
        let len = (steps_raw as usize)
            .checked_mul(datum)
            .and_then(|l| l.checked_add(data))
            .ok_or_else(|| b.err(&f("steps"), "offset overflow"))?;
        r = len;
        if r >= b.b.len() {
            break;
        }
        match b.u32(r, "record type")? {
            0 | 160 => {}
            _ => break,
        }
    }
    Ok((global, ranges))
}
