//! Plain column text reader (helper A fills this in).
use super::{ColumnTable, LoadOptions, ParseError};

pub fn read_table(_text: &str, file: &str, _opts: &LoadOptions) -> Result<ColumnTable, ParseError> {
    Err(ParseError::new(file, "column reader not written yet"))
}
