//! FEFF feffNNNN.dat reader (helper B fills this in).
use super::ParseError;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FeffPath {}

pub fn looks_like_feff(_head: &str) -> bool {
    false
}

pub fn read(_text: &str, file: &str) -> Result<FeffPath, ParseError> {
    Err(ParseError::new(file, "FEFF reader not written yet"))
}
