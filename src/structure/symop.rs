//! Space-group operations: the `x,y,z` notation of CIF symmetry loops, and
//! the operations of a space group from its Hermann–Mauguin symbol, Hall
//! symbol or International Tables number (moyo's Hall-symbol database).

/// A symmetry operation in fractional coordinates: x' = R·x + t.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SymOp {
    pub rot: [[i32; 3]; 3],
    pub trans: [f64; 3],
}

impl SymOp {
    pub const IDENTITY: SymOp = SymOp {
        rot: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
        trans: [0.0; 3],
    };

    pub fn apply(&self, x: [f64; 3]) -> [f64; 3] {
        std::array::from_fn(|i| {
            (0..3).map(|j| self.rot[i][j] as f64 * x[j]).sum::<f64>() + self.trans[i]
        })
    }
}

/// The largest space group has 192 operations (F m -3 m, centring
/// translations counted), so a closure that grows past it is no space group.
pub const MAX_GROUP_ORDER: usize = 192;

/// The largest rotation-matrix entry [`parse_xyz`] accepts.
const MAX_ROT_ENTRY: i32 = 3;

/// Two operations equal modulo lattice translations (tolerance 1e-4).
fn same_op(a: &SymOp, b: &SymOp) -> bool {
    a.rot == b.rot
        && a.trans.iter().zip(&b.trans).all(|(x, y)| {
            let d = x - y;
            (d - d.round()).abs() < 1e-4
        })
}

/// a∘b: x ↦ Ra(Rb x + tb) + ta, translation reduced to [0, 1).
fn compose(a: &SymOp, b: &SymOp) -> SymOp {
    let mut rot = [[0; 3]; 3];
    for (i, row) in rot.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            // Saturating: powers of a shear grow without bound until the
            // closure stops at MAX_GROUP_ORDER.
            *v = (0..3).fold(0i32, |acc, k| {
                acc.saturating_add(a.rot[i][k].saturating_mul(b.rot[k][j]))
            });
        }
    }
    let trans = std::array::from_fn(|i| {
        let t: f64 = (0..3).map(|k| a.rot[i][k] as f64 * b.trans[k]).sum::<f64>() + a.trans[i];
        t.rem_euclid(1.0)
    });
    SymOp { rot, trans }
}

/// `x,y,z` form of an operation (`-y,x-y,z+1/3`).
pub fn to_xyz(op: &SymOp) -> String {
    let axes = ['x', 'y', 'z'];
    let parts: Vec<String> = (0..3)
        .map(|i| {
            let mut s = String::new();
            for (j, axis) in axes.iter().enumerate() {
                match op.rot[i][j] {
                    0 => {}
                    1 if s.is_empty() => s.push(*axis),
                    1 => s.push_str(&format!("+{axis}")),
                    -1 => s.push_str(&format!("-{axis}")),
                    c if c > 0 && !s.is_empty() => s.push_str(&format!("+{c}{axis}")),
                    c => s.push_str(&format!("{c}{axis}")),
                }
            }
            let t = op.trans[i].rem_euclid(1.0);
            if t > 1e-6 && t < 1.0 - 1e-6 {
                let frac = (1..=12)
                    .find(|d| {
                        let n = t * *d as f64;
                        (n - n.round()).abs() < 1e-4
                    })
                    .map_or_else(
                        || format!("{t:.4}"),
                        |d| format!("{}/{d}", (t * d as f64).round()),
                    );
                s.push_str(&format!("+{frac}"));
            }
            if s.is_empty() {
                s.push('0');
            }
            s
        })
        .collect();
    parts.join(",")
}

/// The group the operations generate: duplicates dropped, the identity and
/// every missing product added. `Ok((group, added))`, where `added` counts
/// the operations that were not in the list; `Err(n)` when the closure
/// passes [`MAX_GROUP_ORDER`] (n operations so far): not a space group.
pub fn close_group(ops: &[SymOp]) -> Result<(Vec<SymOp>, usize), usize> {
    let mut group: Vec<SymOp> = Vec::new();
    for op in ops {
        if !group.iter().any(|g| same_op(g, op)) {
            group.push(*op);
        }
    }
    let listed = group.len();
    if !group.iter().any(|g| same_op(g, &SymOp::IDENTITY)) {
        group.push(SymOp::IDENTITY);
    }
    let mut i = 0;
    while i < group.len() {
        let mut j = 0;
        while j < group.len() {
            let (Some(a), Some(b)) = (group.get(i), group.get(j)) else {
                break;
            };
            let p = compose(a, b);
            if !group.iter().any(|g| same_op(g, &p)) {
                group.push(p);
                if group.len() > MAX_GROUP_ORDER {
                    return Err(group.len());
                }
            }
            j += 1;
        }
        i += 1;
    }
    let added = group.len() - listed;
    Ok((group, added))
}

/// A symmetry operation (`x,y,z` form) that cannot be read: the text and
/// what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("symmetry operation '{op}' {problem}")]
pub struct SymOpError {
    pub op: String,
    pub problem: String,
}

impl SymOpError {
    fn new(op: &str, problem: impl Into<String>) -> Self {
        SymOpError {
            op: op.to_string(),
            problem: problem.into(),
        }
    }
}

/// Parse one operation such as `1/2+x,-y+1/4,z` or `-X+Y, 0.5-Y, Z`.
pub fn parse_xyz(s: &str) -> Result<SymOp, SymOpError> {
    let parts: Vec<&str> = s.split(',').collect();
    if parts.len() != 3 {
        return Err(SymOpError::new(
            s,
            "does not have three comma-separated parts",
        ));
    }
    let mut op = SymOp {
        rot: [[0; 3]; 3],
        trans: [0.0; 3],
    };
    for (row, part) in parts.iter().enumerate() {
        let p: String = part
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if p.is_empty() {
            return Err(SymOpError::new(s, "has an empty part"));
        }
        // Split into signed terms.
        let mut terms: Vec<String> = Vec::new();
        for c in p.chars() {
            if (c == '+' || c == '-')
                && !terms
                    .last()
                    .is_some_and(|t| t.is_empty() || t == "+" || t == "-")
            {
                terms.push(c.to_string());
            } else if let Some(t) = terms.last_mut() {
                t.push(c);
            } else {
                terms.push(c.to_string());
            }
        }
        for t in terms {
            let (sign, body) = match t.strip_prefix('-') {
                Some(b) => (-1.0, b),
                None => (1.0, t.strip_prefix('+').unwrap_or(&t)),
            };
            if body.is_empty() {
                return Err(SymOpError::new(s, "has a dangling sign"));
            }
            let axis = body.chars().last().and_then(|c| "xyz".find(c));
            match axis {
                Some(a) => {
                    let coef = &body[..body.len() - 1];
                    let c: f64 = match coef.trim_end_matches('*') {
                        "" => 1.0,
                        n => super::cif::parse_number(n).ok_or_else(|| {
                            SymOpError::new(s, format!("has a bad coefficient '{n}'"))
                        })?,
                    };
                    let ci = (sign * c).round();
                    if (sign * c - ci).abs() > 1e-9 {
                        return Err(SymOpError::new(s, "has a non-integer coefficient"));
                    }
                    // Rotations in any sensible setting have entries of 0, ±1
                    // (±2 in some transformed cells); bounding them keeps the
                    // integer arithmetic from overflowing.
                    let sum = op.rot[row][a] + ci.clamp(-100.0, 100.0) as i32;
                    if sum.abs() > MAX_ROT_ENTRY {
                        return Err(SymOpError::new(
                            s,
                            format!("has a coefficient larger than {MAX_ROT_ENTRY}"),
                        ));
                    }
                    op.rot[row][a] = sum;
                }
                None => {
                    let v = super::cif::parse_number(body)
                        .ok_or_else(|| SymOpError::new(s, format!("has a bad term '{body}'")))?;
                    op.trans[row] += sign * v;
                }
            }
        }
    }
    let det = det3(&op.rot);
    if det.abs() != 1 {
        return Err(SymOpError::new(
            s,
            format!("is not a crystallographic operation (det = {det})"),
        ));
    }
    Ok(op)
}

fn det3(m: &[[i32; 3]; 3]) -> i32 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

/// A Hermann–Mauguin symbol squeezed for comparison: no spaces, `_` or
/// `(...)`, lower case, bar written as `-`.
fn squeeze_hm(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The Hall number (moyo's database, 1–530) for a Hermann–Mauguin symbol,
/// optionally with a setting suffix (`:1`, `:2`, `:H`, `:R`). Without a
/// suffix the second origin choice and hexagonal axes are preferred (the
/// settings AMCSD, ICSD and the International Tables list first today).
pub fn hall_number_from_hm(symbol: &str) -> Option<i32> {
    let (base, suffix) = match symbol.split_once(':') {
        Some((b, s)) => (b, Some(s.trim().to_ascii_lowercase())),
        None => (symbol, None),
    };
    let want = squeeze_hm(base);
    let find = |want: &str| -> Vec<moyo::data::HallSymbolEntry> {
        (1..=530)
            .filter_map(moyo::data::hall_symbol_entry)
            .filter(|e| squeeze_hm(e.hm_short) == want || squeeze_hm(e.hm_full) == want)
            .collect()
    };
    let mut found = find(&want);
    if found.is_empty() && !want.contains("-3") {
        // Old cubic notation without the bar: `F d 3 m` is Fd-3m.
        found = find(&want.replacen('3', "-3", 1));
    }
    if found.is_empty() {
        return None;
    }
    if let Some(sfx) = suffix
        && let Some(e) = found.iter().find(|e| e.setting.eq_ignore_ascii_case(&sfx))
    {
        return Some(e.hall_number);
    }
    found.sort_by_key(|e| match e.setting {
        "2" | "H" => 0,
        "" => 1,
        _ => 2,
    });
    Some(found[0].hall_number)
}

/// The Hall number of the standard setting of space group `number` (1–230).
pub fn hall_number_from_it(number: i32) -> Option<i32> {
    let mut found: Vec<moyo::data::HallSymbolEntry> = (1..=530)
        .filter_map(moyo::data::hall_symbol_entry)
        .filter(|e| e.number == number)
        .collect();
    found.sort_by_key(|e| match e.setting {
        "2" | "H" => 0,
        "" | "b" | "abc" => 1,
        _ => 2,
    });
    found.first().map(|e| e.hall_number)
}

/// All operations (with centring translations) of a Hall number.
pub fn ops_from_hall_number(hall_number: i32) -> Option<Vec<SymOp>> {
    ops_from_hall_symbol(moyo::data::hall_symbol_entry(hall_number)?.hall_symbol)
}

/// All operations of a Hall symbol as written in a CIF (`-P 2ac 2n`), in
/// any setting (Hall, Acta Cryst. A37 (1981) 517).
pub fn ops_from_hall_symbol(symbol: &str) -> Option<Vec<SymOp>> {
    let symbol = symbol.split_whitespace().collect::<Vec<_>>().join(" ");
    let hs = moyo::data::HallSymbol::new(&symbol)?;
    let centring = hs.centering.lattice_points();
    let mut out = Vec::new();
    for op in hs.traverse().iter() {
        for t in &centring {
            out.push(SymOp {
                rot: std::array::from_fn(|i| std::array::from_fn(|j| op.rotation[(i, j)])),
                trans: std::array::from_fn(|i| (op.translation[i] + t[i]).rem_euclid(1.0)),
            });
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_xyz_forms() {
        let op = parse_xyz("1/2+x, -y+1/4, Z").unwrap();
        assert_eq!(op.rot, [[1, 0, 0], [0, -1, 0], [0, 0, 1]]);
        assert_eq!(op.trans, [0.5, 0.25, 0.0]);
        let op = parse_xyz("-x+y,-x,z+0.5").unwrap();
        assert_eq!(op.rot[0], [-1, 1, 0]);
        assert_eq!(op.trans[2], 0.5);
        let op = parse_xyz("+z,3/4-y,3/4-x").unwrap();
        assert_eq!(op.rot, [[0, 0, 1], [0, -1, 0], [-1, 0, 0]]);
        assert!(parse_xyz("x,y").is_err());
        assert!(parse_xyz("x,x,z").is_err());
        assert!(parse_xyz("x,y,q").is_err());
    }

    #[test]
    fn space_groups_by_symbol_and_number() {
        let fd3m = hall_number_from_hm("F d -3 m").unwrap();
        assert_eq!(moyo::data::hall_symbol_entry(fd3m).unwrap().number, 227);
        assert_eq!(ops_from_hall_number(fd3m).unwrap().len(), 192);
        let pnma = hall_number_from_hm("P n m a").unwrap();
        assert_eq!(ops_from_hall_number(pnma).unwrap().len(), 8);
        let r3c = hall_number_from_hm("R -3 c").unwrap();
        assert_eq!(moyo::data::hall_symbol_entry(r3c).unwrap().setting, "H");
        assert_eq!(ops_from_hall_number(r3c).unwrap().len(), 36);
        assert_eq!(
            moyo::data::hall_symbol_entry(hall_number_from_it(225).unwrap())
                .unwrap()
                .number,
            225
        );
        assert!(hall_number_from_hm("Q 9").is_none());
        assert_eq!(hall_number_from_hm("F d 3 m"), Some(fd3m));
        let ops = ops_from_hall_symbol("A 2 -2ac").unwrap();
        assert_eq!(ops.len(), 8);
        assert!(ops_from_hall_symbol("Q 9 z").is_none());
    }

    #[test]
    fn closing_a_set_of_operations() {
        let ops = ops_from_hall_number(hall_number_from_hm("P n m a").unwrap()).unwrap();
        assert_eq!(close_group(&ops).unwrap().1, 0);
        // A 4-fold axis alone generates its powers.
        let (g, added) = close_group(&[parse_xyz("-y,x,z").unwrap()]).unwrap();
        assert_eq!((g.len(), added), (4, 3));
        assert!(g.iter().any(|o| to_xyz(o) == "-x,-y,z"), "{g:?}");
        // A shear generates an infinite set: refused at the bound.
        assert!(close_group(&[parse_xyz("x+y,y,z").unwrap()]).is_err());
        assert_eq!(
            to_xyz(&parse_xyz("1/2-y,x-y,z+1/3").unwrap()),
            "-y+1/2,x-y,z+1/3"
        );
    }
}
