//! Format detection from content, and the one entry point [`load`].

use std::borrow::Cow;
use std::path::Path;

use serde::Serialize;

use super::{Dataset, LoadOptions, ParseError, athena, beamline, columns, display_name, feff, xdi};

/// Formats Carto reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Xdi,
    AthenaProject,
    AthenaJson,
    FeffDat,
    /// Plain or beamline-specific column text (μ(E), raw counts or χ(k)).
    Columns,
}

/// Guess the format from the first bytes (gzip magic, XDI version line,
/// Athena/FEFF headers); anything else textual is a column file.
pub fn detect_format(bytes: &[u8]) -> FileFormat {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return FileFormat::AthenaProject;
    }
    let head_bytes = bytes.get(..bytes.len().min(4096)).map_or(bytes, |h| h);
    // `from_utf8` is the quick check; lossy decoding only when it fails
    // (same text either way).
    let head = match std::str::from_utf8(head_bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(head_bytes),
    };
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with("# XDI/") || trimmed.starts_with("#XDI/") {
        return FileFormat::Xdi;
    }
    if trimmed.starts_with("# Athena project file") {
        return FileFormat::AthenaProject;
    }
    if trimmed.starts_with('{') && head.contains("Athena project file") {
        return FileFormat::AthenaJson;
    }
    if feff::looks_like_feff(&head) {
        return FileFormat::FeffDat;
    }
    FileFormat::Columns
}

/// Read a file and turn it into a dataset, detecting the format.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Dataset, ParseError> {
    let file = display_name(path);
    let bytes = super::read_input(path)
        .map_err(|e| ParseError::new(&file, format!("cannot read file: {e}")))?;
    load_bytes(&bytes, &file, opts)
}

/// Like [`load`], for reading one group of an Athena project: with `group`
/// given, a project keeps the arrays of that group only
/// ([`athena::read_selected`]). Other formats load as with [`load`].
pub fn load_group(
    path: &Path,
    opts: &LoadOptions,
    group: Option<&str>,
) -> Result<Dataset, ParseError> {
    let file = display_name(path);
    let bytes = super::read_input(path)
        .map_err(|e| ParseError::new(&file, format!("cannot read file: {e}")))?;
    load_bytes_group(&bytes, &file, opts, group)
}

/// Like [`load`] for bytes already in memory; `file` names them in errors.
pub fn load_bytes(bytes: &[u8], file: &str, opts: &LoadOptions) -> Result<Dataset, ParseError> {
    load_bytes_group(bytes, file, opts, None)
}

/// [`load_group`] for bytes already in memory.
pub fn load_bytes_group(
    bytes: &[u8],
    file: &str,
    opts: &LoadOptions,
    group: Option<&str>,
) -> Result<Dataset, ParseError> {
    if bytes.is_empty() {
        return Err(ParseError::new(file, "file is empty"));
    }
    // Windows tools (Notepad, PowerShell `>`) write UTF-16 with a BOM: read
    // it as the text it is rather than as binary junk full of NULs.
    if let Some(text) = decode_utf16(bytes, file)? {
        return load_bytes(text.as_bytes(), file, opts);
    }
    match detect_format(bytes) {
        FileFormat::AthenaProject | FileFormat::AthenaJson => match group {
            Some(name) => athena::read_selected(bytes, file, name),
            None => athena::read(bytes, file),
        }
        .map(Dataset::Athena)
        .map_err(|e| {
            // Any gzip goes to the Athena reader: say what it was instead.
            if bytes.starts_with(&[0x1f, 0x8b]) && e.message.starts_with("not an Athena project") {
                ParseError::new(
                    file,
                    "gzip-compressed data that is not an Athena project: decompress it first \
                     (gunzip) and open the file inside",
                )
                .at_line(1)
                .field("gzip")
            } else {
                e
            }
        }),
        fmt => {
            let text = decode_text(bytes, file)?;
            match fmt {
                FileFormat::Xdi => xdi::read_dataset(&text, file, opts),
                FileFormat::FeffDat => feff::read(&text, file).map(Dataset::Feff),
                _ => {
                    // feff.inp sits beside the feffNNNN.dat files; reading it
                    // as columns would give a confusing error far down.
                    if feff::looks_like_feff_inp(&text) {
                        return Err(ParseError::new(
                            file,
                            "this is a FEFF input file (feff.inp: POTENTIALS/ATOMS cards), \
                             not data; load the feffNNNN.dat paths FEFF wrote from it",
                        )
                        .at_line(1));
                    }
                    let t = text.trim_start_matches('\u{feff}').trim_start();
                    if t.starts_with('{') && t.contains("\"carto_session\"") {
                        return Err(ParseError::new(
                            file,
                            "a Carto session file, not data: open it in the app (carto open FILE)",
                        )
                        .at_line(1)
                        .field("json"));
                    }
                    if looks_like_json(t) {
                        return Err(ParseError::new(
                            file,
                            "a JSON document, not an Athena project (no 'Athena project file' \
                             marker): Carto reads JSON only as Athena projects",
                        )
                        .at_line(1)
                        .field("json"));
                    }
                    if let Some(e) = columns::foreign_numbers(&text, file) {
                        return Err(e);
                    }
                    let mut table = columns::read_table(&text, file, opts)?;
                    if xdi_without_version(&text) {
                        table.warnings.push(format!(
                            "{file}:1: XDI fields but no '# XDI/1.0' version line: \
                             read as a plain column file, not as XDI"
                        ));
                    }
                    beamline::to_dataset(table, file, opts)
                }
            }
        }
    }
}

/// XDI fields (`# Column.1: energy eV`, `# Element.symbol: Cu`) in the
/// header of a file without the `# XDI/` version line.
fn xdi_without_version(text: &str) -> bool {
    super::split_lines(text)
        .take(200)
        .filter_map(|l| l.trim_start().strip_prefix('#'))
        .map(str::trim_start)
        .any(|h| h.starts_with("Column.1:") || h.starts_with("Element.symbol:"))
}

/// Text files must be UTF-8 or Latin-1 (old beamline headers); binary junk is
/// rejected with the offset of the first NUL byte.
fn decode_text<'a>(bytes: &'a [u8], file: &str) -> Result<Cow<'a, str>, ParseError> {
    if looks_like_utf16_without_bom(bytes)
        && let Some(e) = not_text(bytes, file, "column file")
    {
        return Err(e);
    }
    if let Some(pos) = memchr::memchr(0, bytes) {
        let line = bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1;
        return Err(ParseError::new(
            file,
            format!("binary data (NUL byte at offset {pos}); not a text format Carto reads"),
        )
        .at_line(line));
    }
    Ok(match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| b as char).collect()),
    })
}

/// UTF-16 text with a byte-order mark, decoded; `None` without a BOM. An odd
/// byte count or an unpaired surrogate is an error at its line.
fn decode_utf16(bytes: &[u8], file: &str) -> Result<Option<String>, ParseError> {
    let little = match bytes {
        [0xff, 0xfe, ..] => true,
        [0xfe, 0xff, ..] => false,
        _ => return Ok(None),
    };
    let body = bytes.get(2..).map_or(&[][..], |b| b);
    let units = body.chunks_exact(2).map(|c| match c {
        [a, b] if little => u16::from_le_bytes([*a, *b]),
        [a, b] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    });
    let mut text = String::with_capacity(body.len() / 2);
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => text.push(c),
            Err(e) => {
                return Err(ParseError::new(
                    file,
                    format!(
                        "invalid UTF-16 text: unpaired surrogate {:#06x}",
                        e.unpaired_surrogate()
                    ),
                )
                .at_line(text.matches('\n').count() + 1));
            }
        }
    }
    if body.len() % 2 == 1 {
        return Err(ParseError::new(
            file,
            "UTF-16 text with an odd number of bytes (file cut short?)",
        )
        .at_line(text.matches('\n').count() + 1));
    }
    Ok(Some(text))
}

/// UTF-16 text with a byte-order mark as UTF-8 bytes (every text reader
/// takes it as the text it is); other bytes unchanged. An odd byte count or
/// an unpaired surrogate is an error at its line.
pub fn utf16_as_utf8<'a>(bytes: &'a [u8], file: &str) -> Result<Cow<'a, [u8]>, ParseError> {
    Ok(match decode_utf16(bytes, file)? {
        Some(t) => Cow::Owned(t.into_bytes()),
        None => Cow::Borrowed(bytes),
    })
}

/// Bytes a text reader (CIF, powder pattern, column file) cannot take,
/// each with its own message: gzip-compressed data, and UTF-16 without a
/// byte-order mark (a NUL in every other byte of ASCII text).
pub fn not_text(bytes: &[u8], file: &str, what: &str) -> Option<ParseError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Some(
            ParseError::new(
                file,
                format!(
                    "gzip-compressed data, not a {what}: decompress it first (gunzip); \
                     Carto reads only Athena projects compressed"
                ),
            )
            .at_line(1)
            .field("gzip"),
        );
    }
    if looks_like_utf16_without_bom(bytes) {
        return Some(
            ParseError::new(
                file,
                "UTF-16 text without a byte-order mark: save it as UTF-8 \
                 (or UTF-16 with its BOM)",
            )
            .at_line(1)
            .field("encoding"),
        );
    }
    None
}

/// ASCII text written as UTF-16 without a BOM: in the first 64 bytes,
/// (nearly) every odd byte is NUL and no even one (or the reverse).
fn looks_like_utf16_without_bom(bytes: &[u8]) -> bool {
    let head = bytes.get(..bytes.len().min(64)).map_or(bytes, |h| h);
    if head.len() < 8 {
        return false;
    }
    let nul_at = |parity: usize| {
        head.iter()
            .enumerate()
            .filter(|(i, b)| i % 2 == parity && **b == 0)
            .count()
    };
    let half = head.len() / 2;
    let (even, odd) = (nul_at(0), nul_at(1));
    (odd * 10 >= half * 9 && even == 0) || (even * 10 >= half * 9 && odd == 0)
}

/// Whether text (BOM and leading blanks trimmed) opens a JSON object or
/// array, which no column format does.
pub(crate) fn looks_like_json(t: &str) -> bool {
    t.starts_with('{')
        || t.strip_prefix('[').is_some_and(|r| {
            r.trim_start()
                .starts_with(|c: char| "{[\"-".contains(c) || c.is_ascii_digit())
        })
}
