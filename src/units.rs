//! Physical constants and unit conversions.

/// 2mₑ/ħ² in Å⁻²·eV⁻¹, so that k = sqrt(ETOK·(E − E0)); the value Larch uses
/// (`larch.xafs.xafsutils.ETOK`, from scipy's CODATA constants).
pub const ETOK: f64 = 0.262_468_423_964_798_36;

/// hc in eV·Å (CODATA 2018), for λ ↔ E and monochromator angle ↔ energy.
pub const HC_EV_ANG: f64 = 12_398.419_843_320_026;

/// Si(111) d-spacing in Å at room temperature (a = 5.431020511 Å, CODATA 2018).
pub const SI111_D_ANG: f64 = 3.135_601_648_7;

/// Photoelectron wavenumber k (Å⁻¹) for an energy above the edge (eV);
/// 0 below the edge, as Larch's `etok`.
pub fn etok(delta_e_ev: f64) -> f64 {
    if delta_e_ev <= 0.0 {
        0.0
    } else {
        (delta_e_ev * ETOK).sqrt()
    }
}

/// Energy above the edge (eV) for photoelectron wavenumber k (Å⁻¹).
pub fn ktoe(k_inv_ang: f64) -> f64 {
    k_inv_ang * k_inv_ang / ETOK
}

/// Bragg's law: photon energy (eV) for monochromator angle θ (degrees) and
/// crystal d-spacing (Å): E = hc / (2 d sin θ).
pub fn mono_angle_to_energy_ev(theta_deg: f64, d_spacing_ang: f64) -> f64 {
    HC_EV_ANG / (2.0 * d_spacing_ang * theta_deg.to_radians().sin())
}
