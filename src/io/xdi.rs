//! XDI 1.0 reader (helper A fills this in).
use super::{LoadOptions, ParseError, XasSpectrum};

pub fn read(_text: &str, file: &str, _opts: &LoadOptions) -> Result<XasSpectrum, ParseError> {
    Err(ParseError::new(file, "XDI reader not written yet"))
}
