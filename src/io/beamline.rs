//! Beamline dialects: energy column and μ recipe (helper A fills this in).
use super::{ColumnTable, Dataset, LoadOptions, ParseError};

pub fn to_dataset(
    _table: ColumnTable,
    file: &str,
    _opts: &LoadOptions,
) -> Result<Dataset, ParseError> {
    Err(ParseError::new(file, "beamline reader not written yet"))
}
