//! Just enough of the ZIP format (PKWARE APPNOTE 6.3, sections 4.3.7,
//! 4.3.12, 4.3.16) to take one member out of a Bruker `.brml`: the end of
//! central directory record, the central directory, local headers, stored
//! or deflated members, CRC-32 checked. No ZIP64, no encryption: both are
//! reported as errors. flate2 (already used for Athena projects) inflates.

use std::io::Read;

use crate::io::ParseError;

/// Members larger than this are refused (a brml's XML is a few MB), and
/// none may inflate past [`crate::io::inflate_cap`] of the archive's size,
/// whatever its directory claims: a deflate bomb stops there.
const MAX_MEMBER: u64 = 1 << 28;

pub(crate) struct Entry {
    pub name: String,
    method: u16,
    flags: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    local_offset: usize,
}

pub(crate) struct Zip<'a> {
    bytes: &'a [u8],
    file: &'a str,
    pub entries: Vec<Entry>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

impl<'a> Zip<'a> {
    fn err(&self, field: &str, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.file, msg).field(field)
    }

    /// Read the central directory.
    pub fn open(bytes: &'a [u8], file: &'a str) -> Result<Self, ParseError> {
        let mut z = Zip {
            bytes,
            file,
            entries: Vec::new(),
        };
        // The end record is 22 bytes plus a comment of up to 65535.
        let lo = bytes.len().saturating_sub(22 + 0xFFFF);
        let eocd = (lo..=bytes.len().saturating_sub(22))
            .rev()
            .find(|&i| bytes.get(i..i + 4) == Some(b"PK\x05\x06"))
            .ok_or_else(|| {
                z.err(
                    "zip",
                    "no end-of-central-directory record: not a zip, or truncated",
                )
            })?;
        let short = |f: &str| z.err(f, "zip end record truncated");
        let count = u16_at(bytes, eocd + 10).ok_or_else(|| short("entries"))?;
        let cd_offset = u32_at(bytes, eocd + 16).ok_or_else(|| short("central directory"))?;
        if count == 0xFFFF || cd_offset == 0xFFFF_FFFF {
            return Err(z.err("zip", "ZIP64 archives are not supported"));
        }
        let mut at = cd_offset as usize;
        for k in 0..count {
            let field = format!("central directory entry {}", k + 1);
            let bad = || z.err(&field, format!("truncated or corrupt at byte {at}"));
            if bytes.get(at..at + 4) != Some(b"PK\x01\x02") {
                return Err(bad());
            }
            let get16 = |o| u16_at(bytes, at + o).ok_or_else(bad);
            let get32 = |o| u32_at(bytes, at + o).ok_or_else(bad);
            let (name_len, extra_len, comment_len) = (
                get16(28)? as usize,
                get16(30)? as usize,
                get16(32)? as usize,
            );
            let name_bytes = bytes.get(at + 46..at + 46 + name_len).ok_or_else(bad)?;
            let e = Entry {
                name: String::from_utf8_lossy(name_bytes).into_owned(),
                flags: get16(8)?,
                method: get16(10)?,
                crc: get32(16)?,
                compressed: u64::from(get32(20)?),
                size: u64::from(get32(24)?),
                local_offset: get32(42)? as usize,
            };
            if e.compressed == 0xFFFF_FFFF || e.size == 0xFFFF_FFFF {
                return Err(z.err(&field, "ZIP64 members are not supported"));
            }
            z.entries.push(e);
            at += 46 + name_len + extra_len + comment_len;
        }
        Ok(z)
    }

    /// The uncompressed bytes of member `name`.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, ParseError> {
        let e = self
            .entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| self.err("zip", format!("no member '{name}'")))?;
        let field = name;
        if e.flags & 1 != 0 {
            return Err(self.err(field, "encrypted zip member"));
        }
        let cap = MAX_MEMBER.min(crate::io::inflate_cap(self.bytes.len()));
        if e.size > cap {
            return Err(self.err(
                field,
                format!(
                    "member of {} bytes is too large for a {}-byte archive (at most {cap}: \
                     64× the archive + 16 MiB, and 256 MiB)",
                    e.size,
                    self.bytes.len()
                ),
            ));
        }
        let at = e.local_offset;
        let b = self.bytes;
        let bad = || {
            self.err(
                field,
                format!("local header at byte {at} truncated or corrupt"),
            )
        };
        if b.get(at..at + 4) != Some(b"PK\x03\x04") {
            return Err(bad());
        }
        let name_len = u16_at(b, at + 26).ok_or_else(bad)? as usize;
        let extra_len = u16_at(b, at + 28).ok_or_else(bad)? as usize;
        let start = at + 30 + name_len + extra_len;
        let data = usize::try_from(e.compressed)
            .ok()
            .and_then(|n| b.get(start..start.checked_add(n)?))
            .ok_or_else(|| {
                self.err(
                    field,
                    format!(
                        "member data ({} bytes from byte {start}) truncated",
                        e.compressed
                    ),
                )
            })?;
        let out = match e.method {
            0 => data.to_vec(),
            8 => {
                let mut out = Vec::with_capacity(e.size.min(1 << 20) as usize);
                flate2::read::DeflateDecoder::new(data)
                    .take(e.size + 1)
                    .read_to_end(&mut out)
                    .map_err(|err| self.err(field, format!("deflate stream corrupt: {err}")))?;
                out
            }
            m => {
                return Err(self.err(
                    field,
                    format!("compression method {m} (only stored and deflate)"),
                ));
            }
        };
        if out.len() as u64 != e.size {
            return Err(self.err(
                field,
                format!(
                    "member inflates to {} bytes, the directory says {}",
                    out.len(),
                    e.size
                ),
            ));
        }
        let mut crc = flate2::Crc::new();
        crc.update(&out);
        if crc.sum() != e.crc {
            return Err(self.err(
                field,
                format!(
                    "CRC-32 mismatch ({:08x}, directory says {:08x})",
                    crc.sum(),
                    e.crc
                ),
            ));
        }
        Ok(out)
    }
}
