//! Athena project reader (helper B fills this in).
use super::ParseError;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AthenaProject {}

pub fn read(_bytes: &[u8], file: &str) -> Result<AthenaProject, ParseError> {
    Err(ParseError::new(file, "Athena reader not written yet"))
}
