//! Pre-edge subtraction and normalization (Larch `pre_edge`).
use super::XasError;

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PreEdgeParams {}
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PreEdge {}
pub fn find_e0(_energy_ev: &[f64], _mu: &[f64]) -> Result<f64, XasError> {
    Err(XasError::NoEdge("not written".into()))
}
pub fn pre_edge(_energy_ev: &[f64], _mu: &[f64], _p: &PreEdgeParams) -> Result<PreEdge, XasError> {
    Err(XasError::NoEdge("not written".into()))
}
