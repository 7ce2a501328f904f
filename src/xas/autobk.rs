//! AUTOBK background removal (Larch `autobk`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct AutobkParams {}
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Autobk {}
pub fn autobk() {}
