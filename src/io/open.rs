//! The one rule for "what is this file": spectra (μ(E), every group of an
//! Athena project, χ(k), FEFF paths), a measured powder pattern, CIF
//! structures or an EXAFS fit model. `carto FILE`, File ▸ Open, dropped
//! files, sessions and `carto info` all route through [`route`], so a file
//! opens as the same kind everywhere.
//!
//! The rule: `.cif` is a structure, `.toml` a fit model; a pattern
//! extension whose content agrees is a pattern ([`super::xrd::route`]);
//! everything else goes to the spectrum readers ([`super::load_bytes`]),
//! which detect their format from the content. A μ recipe or column labels
//! given by the user ask for a spectrum, whatever the file looks like.
//!
//! Every reader path reads its bytes through [`read_input`]: only regular
//! files of at most [`MAX_INPUT_BYTES`] are read, so `/dev/zero`, a FIFO or
//! a runaway log are refused before a byte is taken, not read until memory
//! runs out.

use std::path::Path;

use super::xrd::{XrdPattern, read_pattern_bytes};
use super::{Dataset, LoadOptions, ParseError, load_bytes};
use crate::exafs::FitModel;
use crate::exafs::model::parse_model;
use crate::structure::{Structure, StructureError, parse_cif_structures};

/// The largest file Carto reads (512 MiB): 20× the largest instrument file
/// seen (a 10⁶-point pattern is ~30 MB of text), small enough that parsing
/// it cannot exhaust a laptop's memory.
pub const MAX_INPUT_BYTES: u64 = 512 << 20;

/// Why [`read_input`] refused a path (the caller names the file).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("not a regular file ({0}); Carto reads regular files only")]
    NotAFile(&'static str),
    #[error("{size} bytes is more than the {MAX_INPUT_BYTES} bytes (512 MiB) Carto reads")]
    TooLarge { size: u64 },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The rule of [`read_input`] for readers that stream a file themselves
/// (polars): by its metadata, `path` is a regular file of at most
/// [`MAX_INPUT_BYTES`]; returns its size.
pub fn check_input(path: &Path) -> Result<u64, InputError> {
    let meta = std::fs::metadata(path)?;
    let ft = meta.file_type();
    if !ft.is_file() {
        return Err(InputError::NotAFile(kind_name(&ft)));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge { size: meta.len() });
    }
    Ok(meta.len())
}

/// The bytes of the file at `path`, after checking by its metadata (so
/// before opening it) that it is a regular file of at most
/// [`MAX_INPUT_BYTES`]; the read itself stops there too, for files that
/// grow or lie about their size (`/proc`).
pub fn read_input(path: &Path) -> Result<Vec<u8>, InputError> {
    use std::io::Read;
    let len = check_input(path)?;
    let f = std::fs::File::open(path)?;
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut out)?;
    if out.len() as u64 > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge {
            size: out.len() as u64,
        });
    }
    Ok(out)
}

fn kind_name(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a folder"
    } else {
        "not a plain file"
    }
}

/// What a file holds, as [`route`] decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// μ(E), χ(k), an Athena project or a FEFF path: [`Dataset`].
    Spectra,
    Pattern,
    Structure,
    FitModel,
}

/// A file read as what it is.
#[derive(Debug, Clone)]
pub enum Opened {
    Spectra(Box<Dataset>),
    Pattern(XrdPattern),
    /// Every data block with atoms (at least one).
    Structures(Vec<Structure>),
    FitModel(Box<FitModel>),
}

impl Opened {
    pub fn kind(&self) -> FileKind {
        match self {
            Opened::Spectra(_) => FileKind::Spectra,
            Opened::Pattern(_) => FileKind::Pattern,
            Opened::Structures(_) => FileKind::Structure,
            Opened::FitModel(_) => FileKind::FitModel,
        }
    }
}

/// Why a file could not be opened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpenError {
    #[error("cannot read {file}: {message}")]
    Read { file: String, message: String },
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Structure(#[from] StructureError),
    /// The fit model's own message (it names the file).
    #[error("{0}")]
    FitModel(String),
}

fn ext_of(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// The kind the name alone decides (structures, fit models), or None when
/// the content has a say.
fn kind_by_name(path: &Path, opts: &LoadOptions) -> Option<FileKind> {
    if opts.mu_mode.is_some() || opts.columns.is_some() {
        return Some(FileKind::Spectra);
    }
    match ext_of(path).as_deref() {
        Some("cif") => Some(FileKind::Structure),
        Some("toml") => Some(FileKind::FitModel),
        _ if !super::xrd::has_xrd_extension(path) => Some(FileKind::Spectra),
        _ => None,
    }
}

/// What the file `path` with content `bytes` is (see the module comment).
pub fn route(bytes: &[u8], path: &Path, opts: &LoadOptions) -> FileKind {
    kind_by_name(path, opts).unwrap_or_else(|| {
        if super::xrd::route::pattern_content(bytes, path) {
            FileKind::Pattern
        } else {
            FileKind::Spectra
        }
    })
}

/// Whether a file is named like a FEFF path (`feffNNNN.dat`, `feff_x.dat`;
/// not `feff.dat`), so the Fit view can take dropped paths by name before
/// anything is read. Its content still reads as spectra (a FEFF path).
pub fn is_feff_path_name(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        let n = n.to_string_lossy().to_ascii_lowercase();
        n.starts_with("feff") && n.ends_with(".dat") && n != "feff.dat"
    })
}

/// [`route`] for a file on disk, read only when its content decides. An
/// unreadable file is a spectrum, whose reader reports the error.
pub fn route_path(path: &Path, opts: &LoadOptions) -> FileKind {
    kind_by_name(path, opts).unwrap_or_else(|| match read_input(path) {
        // UTF-16 with a BOM is routed as the text it is, as by [`open_bytes`].
        Ok(bytes) => match super::detect::utf16_as_utf8(&bytes, &path.display().to_string()) {
            Ok(text) => route(&text, path, opts),
            Err(_) => FileKind::Spectra,
        },
        Err(_) => FileKind::Spectra,
    })
}

/// Read the file at `path` as what it is.
pub fn open(path: &Path, opts: &LoadOptions) -> Result<Opened, OpenError> {
    let bytes = read_input(path).map_err(|e| OpenError::Read {
        file: path.display().to_string(),
        message: e.to_string(),
    })?;
    open_bytes(&bytes, path, opts)
}

/// [`open`] for bytes already in memory; `path` names them (errors, the
/// extension, a fit model's folder for its relative file names).
pub fn open_bytes(bytes: &[u8], path: &Path, opts: &LoadOptions) -> Result<Opened, OpenError> {
    let file = path.display().to_string();
    // UTF-16 with a BOM is routed and read as the text it is.
    let bytes = &*super::detect::utf16_as_utf8(bytes, &file)?;
    Ok(match route(bytes, path, opts) {
        FileKind::Spectra => Opened::Spectra(Box::new(load_bytes(bytes, &file, opts)?)),
        FileKind::Pattern => {
            let mut p = read_pattern_bytes(bytes, &file, ext_of(path).as_deref())?;
            if let Some(stem) = path.file_stem() {
                p.name = stem.to_string_lossy().into_owned();
            }
            Opened::Pattern(p)
        }
        FileKind::Structure => {
            if let Some(e) = super::detect::not_text(bytes, &file, "CIF") {
                return Err(e.into());
            }
            Opened::Structures(parse_cif_structures(
                &String::from_utf8_lossy(bytes),
                &file,
            )?)
        }
        FileKind::FitModel => {
            let text = std::str::from_utf8(bytes).map_err(|e| OpenError::Read {
                file: file.clone(),
                message: format!("not UTF-8 text: {e}"),
            })?;
            let base = path.parent().unwrap_or(Path::new("."));
            let model =
                parse_model(text, base, &file).map_err(|e| OpenError::FitModel(e.to_string()))?;
            Opened::FitModel(Box::new(model))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_content_route() {
        let o = LoadOptions::default();
        let xrd: String = (0..200)
            .map(|i| format!("{} {}\n", 10.0 + 0.02 * i as f64, 100 + i % 7))
            .collect();
        assert_eq!(
            route(xrd.as_bytes(), Path::new("a.xy"), &o),
            FileKind::Pattern
        );
        assert_eq!(
            route(xrd.as_bytes(), Path::new("a.xmu"), &o),
            FileKind::Spectra
        );
        assert_eq!(
            route(b"data_x", Path::new("a.CIF"), &o),
            FileKind::Structure
        );
        assert_eq!(route(b"", Path::new("m.toml"), &o), FileKind::FitModel);
        let forced = LoadOptions {
            columns: Some("energy mu".into()),
            ..LoadOptions::default()
        };
        assert_eq!(
            route(xrd.as_bytes(), Path::new("a.xy"), &forced),
            FileKind::Spectra
        );
    }
}
