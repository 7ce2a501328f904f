//! XAFS Fourier transforms (Larch `xftf`, `xftr`, `ftwindow`).
#[derive(Debug, Clone, Default)]
pub struct FtParams {}
#[derive(Debug, Clone, Default)]
pub struct ChiR {}
#[derive(Debug, Clone, Default)]
pub struct ChiQ {}
#[derive(Debug, Clone, Default)]
pub enum Window {
    #[default]
    Hanning,
}
pub fn xftf() {}
pub fn xftr() {}
