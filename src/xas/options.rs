//! The chain's options as users give them: `carto xas`'s flags (`--bkg-kmin`)
//! and `carto batch`'s config keys (`bkg_kmin`) are this one struct, so the
//! two cannot drift apart in names, defaults or checks.

use super::fourier::Window;
use super::{AutobkParams, ChainParams, FtParams, PreEdgeParams};

/// pre_edge → autobk → xftf options (Larch's names; eV ranges relative to
/// e0; unset = Larch's rule). `Default` equals the flags' defaults (a unit
/// test holds them together).
#[derive(Debug, Clone, PartialEq, serde::Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct ChainOptions {
    // pre_edge (Larch defaults when unset)
    /// Edge energy, eV (default: maximum of the smoothed derivative).
    #[arg(long)]
    pub e0: Option<f64>,
    /// Pre-edge range start, eV relative to e0.
    #[arg(long, allow_hyphen_values = true)]
    pub pre1: Option<f64>,
    /// Pre-edge range end, eV relative to e0.
    #[arg(long, allow_hyphen_values = true)]
    pub pre2: Option<f64>,
    /// Post-edge range start, eV relative to e0.
    #[arg(long, allow_hyphen_values = true)]
    pub norm1: Option<f64>,
    /// Post-edge range end, eV relative to e0.
    #[arg(long, allow_hyphen_values = true)]
    pub norm2: Option<f64>,
    /// Post-edge polynomial degree (0–5).
    #[arg(long)]
    pub nnorm: Option<usize>,
    /// Energy exponent of the pre-edge fit (Victoreen).
    #[arg(long, default_value_t = 0)]
    pub nvict: i32,
    /// Edge step to use instead of the fitted one.
    #[arg(long)]
    pub step: Option<f64>,
    // autobk (Larch defaults)
    /// AUTOBK: R below which χ(R) is minimised, Å.
    #[arg(long, default_value_t = 1.0)]
    pub rbkg: f64,
    /// AUTOBK: k-weight of the background fit.
    #[arg(long, default_value_t = 1.0)]
    pub bkg_kweight: f64,
    /// AUTOBK: k range start, Å⁻¹.
    #[arg(long, default_value_t = 0.0)]
    pub bkg_kmin: f64,
    /// AUTOBK: k range end, Å⁻¹ (default: end of data).
    #[arg(long)]
    pub bkg_kmax: Option<f64>,
    /// AUTOBK: window sill width, Å⁻¹.
    #[arg(long, default_value_t = 0.1)]
    pub bkg_dk: f64,
    /// AUTOBK: number of spline knots (default 1 + 2·rbkg·Δk/π).
    #[arg(long)]
    pub nknots: Option<usize>,
    /// AUTOBK: weight of the low-k clamp.
    #[arg(long, default_value_t = 0.0)]
    pub clamp_lo: f64,
    /// AUTOBK: weight of the high-k clamp.
    #[arg(long, default_value_t = 1.0)]
    pub clamp_hi: f64,
    // xftf (Larch defaults)
    /// FT k range start, Å⁻¹.
    #[arg(long, default_value_t = 2.0)]
    pub kmin: f64,
    /// FT k range end, Å⁻¹ (default 12, limited to the end of the data;
    /// a value given for χ(k) past its end is refused). None: not given,
    /// so an explicit 12 is told apart from the default.
    #[arg(long)]
    pub kmax: Option<f64>,
    /// FT window sill width, Å⁻¹.
    #[arg(long, default_value_t = 1.0)]
    pub dk: f64,
    /// FT window shape.
    #[arg(long, value_enum, default_value_t = Window::Hanning)]
    pub window: Window,
    /// FT k-weight.
    #[arg(long, default_value_t = 2.0)]
    pub kweight: f64,
    /// Largest R in the output, Å.
    #[arg(long, default_value_t = 10.0)]
    pub rmax_out: f64,
}

impl Default for ChainOptions {
    fn default() -> Self {
        let chain = ChainParams::default();
        ChainOptions {
            e0: None,
            pre1: None,
            pre2: None,
            norm1: None,
            norm2: None,
            nnorm: None,
            nvict: 0,
            step: None,
            rbkg: chain.autobk.rbkg,
            bkg_kweight: chain.autobk.kweight,
            bkg_kmin: chain.autobk.kmin,
            bkg_kmax: None,
            bkg_dk: chain.autobk.dk,
            nknots: None,
            clamp_lo: chain.autobk.clamp_lo,
            clamp_hi: chain.autobk.clamp_hi,
            kmin: chain.ft.kmin,
            kmax: None,
            dk: chain.ft.dk,
            window: chain.ft.window,
            kweight: chain.ft.kweight,
            rmax_out: chain.ft.rmax_out,
        }
    }
}

/// An option value the chain cannot use (or would replace silently): its
/// key (`bkg_kmin`; the flag is `--bkg-kmin`), the value and the rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid {key} = {value}: {rule}")]
pub struct OptionError {
    pub key: &'static str,
    pub value: String,
    pub rule: &'static str,
}

impl OptionError {
    /// The command-line flag of the key.
    pub fn flag(&self) -> String {
        format!("--{}", self.key.replace('_', "-"))
    }
}

impl ChainOptions {
    /// The chain's parameters.
    pub fn chain_params(&self) -> ChainParams {
        ChainParams {
            pre_edge: PreEdgeParams {
                e0: self.e0,
                step: self.step,
                pre1: self.pre1,
                pre2: self.pre2,
                norm1: self.norm1,
                norm2: self.norm2,
                nnorm: self.nnorm,
                nvict: self.nvict,
                make_flat: true,
            },
            autobk: AutobkParams {
                rbkg: self.rbkg,
                nknots: self.nknots,
                kmin: self.bkg_kmin,
                kmax: self.bkg_kmax,
                kweight: self.bkg_kweight,
                dk: self.bkg_dk,
                clamp_lo: self.clamp_lo,
                clamp_hi: self.clamp_hi,
                ..AutobkParams::default()
            },
            ft: FtParams {
                kmin: self.kmin,
                kmax: self.kmax.unwrap_or(FtParams::default().kmax),
                dk: self.dk,
                window: self.window,
                kweight: self.kweight,
                rmax_out: self.rmax_out,
                ..FtParams::default()
            },
        }
    }

    /// Values that are not finite, a post-edge degree over 5, a step ≤ 0.
    pub fn check(&self) -> Result<(), OptionError> {
        let values = [
            ("e0", self.e0),
            ("pre1", self.pre1),
            ("pre2", self.pre2),
            ("norm1", self.norm1),
            ("norm2", self.norm2),
            ("step", self.step),
            ("rbkg", Some(self.rbkg)),
            ("bkg_kweight", Some(self.bkg_kweight)),
            ("bkg_kmin", Some(self.bkg_kmin)),
            ("bkg_kmax", self.bkg_kmax),
            ("bkg_dk", Some(self.bkg_dk)),
            ("clamp_lo", Some(self.clamp_lo)),
            ("clamp_hi", Some(self.clamp_hi)),
            ("kmin", Some(self.kmin)),
            ("kmax", self.kmax),
            ("dk", Some(self.dk)),
            ("kweight", Some(self.kweight)),
            ("rmax_out", Some(self.rmax_out)),
        ];
        for (key, v) in values {
            if let Some(v) = v
                && !v.is_finite()
            {
                return Err(OptionError {
                    key,
                    value: v.to_string(),
                    rule: "must be a finite number",
                });
            }
        }
        if let Some(n) = self.nnorm
            && n > 5
        {
            return Err(OptionError {
                key: "nnorm",
                value: n.to_string(),
                rule: "must be between 0 and 5",
            });
        }
        if let Some(s) = self.step
            && s <= 0.0
        {
            return Err(OptionError {
                key: "step",
                value: s.to_string(),
                rule: "must be > 0",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        o: ChainOptions,
    }

    #[test]
    fn flag_defaults_equal_default_and_the_chain_defaults() {
        let flags = Flags::parse_from(["carto"]).o;
        assert_eq!(flags, ChainOptions::default());
        assert_eq!(flags.chain_params(), ChainParams::default());
    }

    #[test]
    fn check_names_the_key_and_its_flag() {
        let o = ChainOptions {
            bkg_kmin: f64::NAN,
            ..ChainOptions::default()
        };
        let e = o.check().expect_err("NaN");
        assert_eq!(e.key, "bkg_kmin");
        assert_eq!(e.flag(), "--bkg-kmin");
        assert_eq!(
            e.to_string(),
            "invalid bkg_kmin = NaN: must be a finite number"
        );
        let o = ChainOptions {
            nnorm: Some(6),
            ..ChainOptions::default()
        };
        assert_eq!(o.check().expect_err("nnorm").key, "nnorm");
        let o = ChainOptions {
            step: Some(0.0),
            ..ChainOptions::default()
        };
        assert_eq!(o.check().expect_err("step").rule, "must be > 0");
        assert_eq!(ChainOptions::default().check(), Ok(()));
    }

    #[test]
    fn explicit_kmax_equal_to_the_default_is_told_apart() {
        let given = Flags::parse_from(["carto", "--kmax", "12"]).o;
        assert_eq!(given.kmax, Some(12.0));
        assert_ne!(given, ChainOptions::default());
        assert_eq!(Flags::parse_from(["carto"]).o.kmax, None);
        // Same chain parameters either way.
        assert_eq!(given.chain_params(), ChainParams::default());
        let o = ChainOptions {
            kmax: Some(f64::INFINITY),
            ..ChainOptions::default()
        };
        assert_eq!(o.check().expect_err("inf").key, "kmax");
    }
}
