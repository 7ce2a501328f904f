//! X-ray absorption edge energies, to name the absorber of a measured
//! spectrum from its e0 (as Larch's `guess_edge` does with xraydb).

use crate::io::feff::element_symbol;

/// Absorption edges Carto knows, in the order ties are broken (K first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum EdgeName {
    K,
    L1,
    L2,
    L3,
}

impl EdgeName {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeName::K => "K",
            EdgeName::L1 => "L1",
            EdgeName::L2 => "L2",
            EdgeName::L3 => "L3",
        }
    }
}

impl std::str::FromStr for EdgeName {
    type Err = String;
    /// `K`, `L1`, `L2`, `L3` (any case), as XDI, Athena and FEFF write them.
    fn from_str(s: &str) -> Result<EdgeName, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "K" => Ok(EdgeName::K),
            "L1" => Ok(EdgeName::L1),
            "L2" => Ok(EdgeName::L2),
            "L3" => Ok(EdgeName::L3),
            _ => Err(format!("'{s}' is not an edge Carto knows (K, L1, L2, L3)")),
        }
    }
}

/// The tabulated energy of an edge of element `z` (Elam, Ravel & Sieber),
/// None when the table has none.
pub fn edge_energy_ev(z: u32, edge: EdgeName) -> Option<f64> {
    let row = EDGE_ENERGIES_EV.get(usize::try_from(z).ok()?.checked_sub(1)?)?;
    let e = row[edge as usize];
    (e > 0.0).then_some(e)
}

/// A guessed edge: the absorber's atomic number and symbol, the edge and
/// its tabulated energy.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EdgeGuess {
    pub z: u32,
    pub symbol: &'static str,
    pub edge: EdgeName,
    pub edge_energy_ev: f64,
}

/// How far (eV) a measured e0 may sit from the tabulated edge: chemical
/// shifts and calibration offsets are a few to ~20 eV.
pub const MAX_EDGE_OFFSET_EV: f64 = 40.0;

/// How much closer (eV) an L1 or L2 edge must be than a K or L3 edge to
/// be chosen.
pub const L1_L2_HANDICAP_EV: f64 = 20.0;

/// The edge nearest `e0_ev` among the K, L1, L2 and L3 edges of Li–Cf
/// above 100 eV, when one lies within [`MAX_EDGE_OFFSET_EV`]; K and L3
/// (the edges measured) win over L1/L2 edges unless those are closer by
/// [`L1_L2_HANDICAP_EV`].
pub fn guess_edge(e0_ev: f64) -> Option<EdgeGuess> {
    if !e0_ev.is_finite() || e0_ev <= 0.0 {
        return None;
    }
    let edges = [EdgeName::K, EdgeName::L1, EdgeName::L2, EdgeName::L3];
    let mut best: Option<(f64, EdgeGuess)> = None;
    for (i, row) in EDGE_ENERGIES_EV.iter().enumerate() {
        let z = i as u32 + 1;
        if z < 3 {
            continue;
        }
        for (j, &e) in row.iter().enumerate() {
            if e < 100.0 {
                continue;
            }
            let edge = edges[j];
            // The commonly measured edges win unless an L1/L2 edge is
            // closer by more than the handicap (Fe K 7112 eV against Nd
            // L1 7126 eV for an Fe(II) e0 of 7122 eV).
            let penalty = if matches!(edge, EdgeName::K | EdgeName::L3) {
                0.0
            } else {
                L1_L2_HANDICAP_EV
            };
            let d = (e - e0_ev).abs();
            if d > MAX_EDGE_OFFSET_EV {
                continue;
            }
            let score = d + penalty;
            if best.as_ref().is_none_or(|(s, _)| score < *s) {
                best = Some((
                    score,
                    EdgeGuess {
                        z,
                        symbol: element_symbol(z),
                        edge,
                        edge_energy_ev: e,
                    },
                ));
            }
        }
    }
    best.map(|(_, g)| g)
}

/// K, L1, L2, L3 edge energies (eV) for Z = 1..=98 (0: no such edge), as
/// tabulated by W. T. Elam, B. D. Ravel, J. R. Sieber, Radiat. Phys. Chem.
/// 63 (2002) 121 (the table FEFF10 and xraydb use).
const EDGE_ENERGIES_EV: [[f64; 4]; 98] = [
    [13.6, 0.0, 0.0, 0.0],                 // Z=1
    [24.6, 0.0, 0.0, 0.0],                 // Z=2
    [54.7, 5.3, 0.0, 0.0],                 // Z=3
    [111.5, 8.0, 3.0, 3.0],                // Z=4
    [188.0, 12.6, 4.7, 4.7],               // Z=5
    [284.2, 18.0, 7.2, 7.2],               // Z=6
    [409.9, 37.3, 17.5, 17.5],             // Z=7
    [543.1, 41.6, 18.2, 18.2],             // Z=8
    [696.7, 45.0, 19.9, 19.9],             // Z=9
    [870.2, 48.5, 21.7, 21.6],             // Z=10
    [1070.8, 63.5, 30.65, 30.81],          // Z=11
    [1303.0, 88.7, 49.78, 49.5],           // Z=12
    [1559.6, 117.8, 72.95, 72.55],         // Z=13
    [1839.0, 149.7, 99.82, 99.42],         // Z=14
    [2145.5, 189.0, 136.0, 135.0],         // Z=15
    [2472.0, 230.9, 163.6, 162.5],         // Z=16
    [2822.4, 270.0, 202.0, 200.0],         // Z=17
    [3205.9, 326.3, 250.6, 248.4],         // Z=18
    [3608.4, 378.6, 297.3, 294.6],         // Z=19
    [4038.5, 438.4, 349.7, 346.2],         // Z=20
    [4492.0, 498.0, 403.6, 398.7],         // Z=21
    [4966.0, 560.9, 460.2, 453.8],         // Z=22
    [5465.0, 626.7, 519.8, 512.1],         // Z=23
    [5989.0, 696.0, 583.8, 574.1],         // Z=24
    [6539.0, 769.1, 649.9, 638.7],         // Z=25
    [7112.0, 844.6, 719.9, 706.8],         // Z=26
    [7709.0, 925.1, 793.2, 778.1],         // Z=27
    [8333.0, 1008.6, 870.0, 852.7],        // Z=28
    [8979.0, 1096.7, 952.3, 932.7],        // Z=29
    [9659.0, 1196.2, 1044.9, 1021.8],      // Z=30
    [10367.0, 1299.0, 1143.2, 1116.4],     // Z=31
    [11103.0, 1414.6, 1248.1, 1217.0],     // Z=32
    [11867.0, 1527.0, 1359.1, 1323.6],     // Z=33
    [12658.0, 1652.0, 1474.3, 1433.9],     // Z=34
    [13474.0, 1782.0, 1596.0, 1550.0],     // Z=35
    [14326.0, 1921.0, 1730.9, 1678.4],     // Z=36
    [15200.0, 2065.0, 1864.0, 1804.0],     // Z=37
    [16105.0, 2216.0, 2007.0, 1940.0],     // Z=38
    [17038.0, 2373.0, 2156.0, 2080.0],     // Z=39
    [17998.0, 2532.0, 2307.0, 2223.0],     // Z=40
    [18986.0, 2698.0, 2465.0, 2371.0],     // Z=41
    [20000.0, 2866.0, 2625.0, 2520.0],     // Z=42
    [21044.0, 3043.0, 2793.0, 2677.0],     // Z=43
    [22117.0, 3224.0, 2967.0, 2838.0],     // Z=44
    [23220.0, 3412.0, 3146.0, 3004.0],     // Z=45
    [24350.0, 3604.0, 3330.0, 3173.0],     // Z=46
    [25514.0, 3806.0, 3524.0, 3351.0],     // Z=47
    [26711.0, 4018.0, 3727.0, 3538.0],     // Z=48
    [27940.0, 4238.0, 3938.0, 3730.0],     // Z=49
    [29200.0, 4465.0, 4156.0, 3929.0],     // Z=50
    [30491.0, 4698.0, 4380.0, 4132.0],     // Z=51
    [31814.0, 4939.0, 4612.0, 4341.0],     // Z=52
    [33169.0, 5188.0, 4852.0, 4557.0],     // Z=53
    [34561.0, 5453.0, 5107.0, 4786.0],     // Z=54
    [35985.0, 5714.0, 5359.0, 5012.0],     // Z=55
    [37441.0, 5989.0, 5624.0, 5247.0],     // Z=56
    [38925.0, 6266.0, 5891.0, 5483.0],     // Z=57
    [40443.0, 6549.0, 6164.0, 5723.0],     // Z=58
    [41991.0, 6835.0, 6440.0, 5964.0],     // Z=59
    [43569.0, 7126.0, 6722.0, 6208.0],     // Z=60
    [45184.0, 7428.0, 7013.0, 6459.0],     // Z=61
    [46834.0, 7737.0, 7312.0, 6716.0],     // Z=62
    [48519.0, 8052.0, 7617.0, 6977.0],     // Z=63
    [50239.0, 8376.0, 7930.0, 7243.0],     // Z=64
    [51996.0, 8708.0, 8252.0, 7514.0],     // Z=65
    [53789.0, 9046.0, 8581.0, 7790.0],     // Z=66
    [55618.0, 9394.0, 8918.0, 8071.0],     // Z=67
    [57486.0, 9751.0, 9264.0, 8358.0],     // Z=68
    [59390.0, 10116.0, 9617.0, 8648.0],    // Z=69
    [61332.0, 10486.0, 9978.0, 8944.0],    // Z=70
    [63314.0, 10870.0, 10349.0, 9244.0],   // Z=71
    [65351.0, 11271.0, 10739.0, 9561.0],   // Z=72
    [67416.0, 11682.0, 11136.0, 9881.0],   // Z=73
    [69525.0, 12100.0, 11544.0, 10207.0],  // Z=74
    [71676.0, 12527.0, 11959.0, 10535.0],  // Z=75
    [73871.0, 12968.0, 12385.0, 10871.0],  // Z=76
    [76111.0, 13419.0, 12824.0, 11215.0],  // Z=77
    [78395.0, 13880.0, 13273.0, 11564.0],  // Z=78
    [80725.0, 14353.0, 13734.0, 11919.0],  // Z=79
    [83102.0, 14839.0, 14209.0, 12284.0],  // Z=80
    [85530.0, 15347.0, 14698.0, 12658.0],  // Z=81
    [88005.0, 15861.0, 15200.0, 13035.0],  // Z=82
    [90526.0, 16388.0, 15711.0, 13419.0],  // Z=83
    [93105.0, 16939.0, 16244.0, 13814.0],  // Z=84
    [95730.0, 17493.0, 16785.0, 14214.0],  // Z=85
    [98404.0, 18049.0, 17337.0, 14619.0],  // Z=86
    [101137.0, 18639.0, 17907.0, 15031.0], // Z=87
    [103922.0, 19237.0, 18484.0, 15444.0], // Z=88
    [106755.0, 19840.0, 19083.0, 15871.0], // Z=89
    [109651.0, 20472.0, 19693.0, 16300.0], // Z=90
    [112601.0, 21105.0, 20314.0, 16733.0], // Z=91
    [115606.0, 21757.0, 20948.0, 17166.0], // Z=92
    [118669.0, 22427.0, 21600.0, 17610.0], // Z=93
    [121791.0, 23104.0, 22266.0, 18057.0], // Z=94
    [124982.0, 23808.0, 22952.0, 18510.0], // Z=95
    [128241.0, 24526.0, 23651.0, 18970.0], // Z=96
    [131556.0, 25256.0, 24371.0, 19435.0], // Z=97
    [134939.0, 26010.0, 25108.0, 19907.0], // Z=98
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_edges_name_their_absorber() {
        // e0 of real scans: Cu foil, Fe oxides, Zn in ZnSe, Sn L3 of SnO2, Mn, As.
        for (e0, sym, edge) in [
            (8980.5, "Cu", EdgeName::K),
            (7121.3, "Fe", EdgeName::K),
            (7124.0, "Fe", EdgeName::K),
            (9660.2, "Zn", EdgeName::K),
            (3929.8, "Sn", EdgeName::L3),
            (6545.0, "Mn", EdgeName::K),
            (11868.0, "As", EdgeName::K),
        ] {
            let g = guess_edge(e0).unwrap_or_else(|| panic!("{e0}"));
            assert_eq!((g.symbol, g.edge), (sym, edge), "{e0}");
        }
        assert!(guess_edge(f64::NAN).is_none());
        assert!(guess_edge(-5.0).is_none());
        // 250 keV is beyond every K edge here.
        assert!(guess_edge(250_000.0).is_none());
    }
}
