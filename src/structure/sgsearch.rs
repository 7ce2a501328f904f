//! Space-group search that stays near-linear in the sites.
//!
//! moyo (the spglib algorithm) tries every lattice rotation with every site
//! of the rarest species as a pivot, and builds all N moved positions before
//! it checks the first one: O(N²) even when every try fails on its first
//! site (10⁴ sites ≈ 2 s release, 2·10⁴ ≈ 7 s). Large cells are what that
//! hurts: supercells written out in P1 and disordered snapshots. Above
//! [`DIRECT_SEARCH_SITES`] sites this module does the cheap part itself,
//! checking candidate operations site by site against a bin grid
//! (moyo's `PeriodicNeighborSearch`) and stopping at the first site that
//! does not land on one of its kind:
//! 1. pure translations (the group closed as it is found) reduce a
//!    supercell to its primitive cell, which moyo then searches;
//! 2. a primitive cell where no lattice rotation maps the structure onto
//!    itself within 2·symprec (twice moyo's tolerance, so moyo would find
//!    none either) is P1, without moyo;
//! 3. otherwise moyo searches the cell, up to [`MAX_SPACEGROUP_SITES`].
//!
//! Every check is bounded: at most [`LOOKUPS_PER_SITE`]·N + 10⁶ site lookups
//! in all, after which the search falls back to rule 3; a cell with more
//! than one site per (4·symprec)³ (where a lookup is no longer O(1)) goes
//! to rule 3 at once.

use moyo::base::{Cell, Lattice as MoyoLattice};
use moyo::search::PeriodicNeighborSearch;
use nalgebra::{Matrix3, Vector3};

use super::{MAX_SPACEGROUP_SITES, SpaceGroupError, SpaceGroupInfo};

/// Cells of at most this many sites go straight to moyo (quadratic but
/// well under a second there).
pub const DIRECT_SEARCH_SITES: usize = 2_000;

/// The lookup budget per site of the cell (plus 10⁶).
pub const LOOKUPS_PER_SITE: usize = 64;

/// The space group of `cell` (sites numbered by kind) at `symprec` Å.
pub(super) fn search(cell: &Cell, symprec: f64) -> Result<SpaceGroupInfo, SpaceGroupError> {
    let n = cell.num_atoms();
    if n <= DIRECT_SEARCH_SITES {
        return moyo_search(cell, symprec);
    }
    match Reduced::new(cell, symprec) {
        Some(mut r) => match r.pure_translations() {
            Some(t) if t.len() > 1 => match r.primitive(&t) {
                Some(prim) => search(&prim, symprec),
                None => moyo_bounded(cell, symprec),
            },
            Some(_) => match r.has_point_operation() {
                Some(false) => Ok(SpaceGroupInfo {
                    number: 1,
                    symbol: "P1".into(),
                    hall_number: 1,
                }),
                _ => moyo_bounded(cell, symprec),
            },
            None => moyo_bounded(cell, symprec),
        },
        None => moyo_bounded(cell, symprec),
    }
}

fn moyo_bounded(cell: &Cell, symprec: f64) -> Result<SpaceGroupInfo, SpaceGroupError> {
    let sites = cell.num_atoms();
    if sites > MAX_SPACEGROUP_SITES {
        return Err(SpaceGroupError::TooManySites { sites });
    }
    moyo_search(cell, symprec)
}

/// moyo at `symprec` Å and 5° (pymatgen's SpacegroupAnalyzer defaults are
/// 0.01 Å and 5°).
fn moyo_search(cell: &Cell, symprec: f64) -> Result<SpaceGroupInfo, SpaceGroupError> {
    let ds = moyo::MoyoDataset::new(
        cell,
        symprec,
        moyo::base::AngleTolerance::Radian(5f64.to_radians()),
        moyo::data::Setting::Spglib,
        true,
    )
    .map_err(|e| SpaceGroupError::Search(format!("{e:?}")))?;
    Ok(SpaceGroupInfo {
        number: ds.number,
        symbol: ds.hm_symbol.replace(' ', ""),
        hall_number: ds.hall_number,
    })
}

/// A cell on its Minkowski-reduced basis, with a bin grid of its sites.
struct Reduced {
    cell: Cell,
    grid: PeriodicNeighborSearch,
    /// Sites of the rarest kind (the pivots).
    pivots: Vec<usize>,
    /// Site order for checks: a fixed stride through the cell, so a
    /// structure that matches nearly everywhere fails early too.
    order: Vec<usize>,
    symprec: f64,
    lookups_left: usize,
}

impl Reduced {
    fn new(cell: &Cell, symprec: f64) -> Option<Self> {
        let n = cell.num_atoms();
        if n == 0 || symprec.is_nan() || symprec <= 0.0 {
            return None;
        }
        // A lookup scans one bin of the grid (4·symprec wide, each site in
        // up to 8 bins): with more than one site per bin volume, lookups
        // stop being O(1) and the budget no longer bounds the time.
        let per_site = cell.lattice.volume() / n as f64;
        if per_site.is_nan() || per_site <= (4.0 * symprec).powi(3) {
            return None;
        }
        let (lattice, _) = cell.lattice.minkowski_reduce().ok()?;
        let to_reduced = lattice.basis.try_inverse()? * cell.lattice.basis;
        let positions = cell
            .positions
            .iter()
            .map(|p| wrap(to_reduced * p))
            .collect();
        let cell = Cell::new(lattice, positions, cell.numbers.clone());
        // The candidate translation must be found within twice the
        // tolerance (as moyo does: it is not yet the optimal one).
        let grid = PeriodicNeighborSearch::new(&cell, 2.0 * symprec);
        let mut counts = std::collections::BTreeMap::new();
        for &k in &cell.numbers {
            *counts.entry(k).or_insert(0usize) += 1;
        }
        let rarest = counts.iter().min_by_key(|(_, c)| **c).map(|(k, _)| *k)?;
        let pivots = (0..n).filter(|&i| cell.numbers[i] == rarest).collect();
        let stride = stride_coprime(n);
        let order = (0..n).map(|i| (i * stride) % n).collect();
        Some(Self {
            cell,
            grid,
            pivots,
            order,
            symprec,
            lookups_left: LOOKUPS_PER_SITE * n + 1_000_000,
        })
    }

    /// The site of the same kind within 2·symprec of `p`, spending budget.
    fn site_at(&mut self, p: &Vector3<f64>, kind: i32) -> Result<Option<usize>, OutOfBudget> {
        if self.lookups_left == 0 {
            return Err(OutOfBudget);
        }
        self.lookups_left -= 1;
        Ok(self
            .grid
            .nearest(p)
            .map(|nb| nb.index)
            .filter(|&j| self.cell.numbers[j] == kind))
    }

    /// Whether x ↦ R·x + t puts every site on a site of its kind.
    fn maps_onto(&mut self, r: &Matrix3<f64>, t: &Vector3<f64>) -> Result<bool, OutOfBudget> {
        for i in 0..self.order.len() {
            let s = self.order[i];
            let p = r * self.cell.positions[s] + t;
            if self.site_at(&p, self.cell.numbers[s])?.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The pure translations, as the pivot sites the first pivot moves to
    /// (itself first); None when the budget runs out or the found
    /// translations do not close into a group.
    fn pure_translations(&mut self) -> Option<Vec<usize>> {
        let n = self.cell.num_atoms();
        let src = self.pivots[0];
        let kind = self.cell.numbers[src];
        let mut in_group = vec![false; n];
        in_group[src] = true;
        let mut group = vec![src];
        let mut generators: Vec<Vector3<f64>> = Vec::new();
        let identity = Matrix3::identity();
        for k in 0..self.pivots.len() {
            let dst = self.pivots[k];
            if in_group[dst] {
                continue;
            }
            let t = self.cell.positions[dst] - self.cell.positions[src];
            if !self.maps_onto(&identity, &t).ok()? {
                continue;
            }
            generators.push(t);
            // Close the group: every element plus every generator.
            let mut queue = group.clone();
            while let Some(g) = queue.pop() {
                for gen_t in &generators {
                    let p = self.cell.positions[g] + gen_t;
                    let j = self.site_at(&p, kind).ok()??;
                    if !in_group[j] {
                        in_group[j] = true;
                        group.push(j);
                        queue.push(j);
                    }
                }
            }
        }
        Some(group)
    }

    /// The primitive cell of the translations `group` (pivot images), or
    /// None when they do not make a lattice within the tolerance.
    fn primitive(&mut self, group: &[usize]) -> Option<Cell> {
        let n = self.cell.num_atoms();
        let m = group.len();
        if !n.is_multiple_of(m) {
            return None;
        }
        let src = group[0];
        let translations: Vec<Vector3<f64>> = group
            .iter()
            .map(|&j| wrap(self.cell.positions[j] - self.cell.positions[src]))
            .collect();
        // The translations are multiples of 1/m: an integer lattice.
        let mi = m as i64;
        let mut rows: Vec<[i64; 3]> = Vec::with_capacity(m + 3);
        for t in &translations {
            let v = t * m as f64;
            let r = v.map(f64::round);
            if (v - r).amax() > 0.25 {
                return None;
            }
            rows.push([r[0] as i64, r[1] as i64, r[2] as i64]);
        }
        rows.extend([[mi, 0, 0], [0, mi, 0], [0, 0, mi]]);
        let h = hermite_basis(rows)?;
        let det = det3(&h);
        if det.checked_abs()? != mi.checked_mul(mi)? {
            return None;
        }
        // New basis vectors (columns) in the old fractional coordinates.
        let mut b = Matrix3::from_fn(|i, j| h[j][i] as f64 / m as f64);
        if b.determinant() < 0.0 {
            // A right-handed basis of the same lattice.
            b = -b;
        }
        let basis = self.cell.lattice.basis * b;
        let to_new = b.try_inverse()?;
        // One site per translation orbit.
        let mut taken = vec![false; n];
        let mut positions = Vec::with_capacity(n / m);
        let mut numbers = Vec::with_capacity(n / m);
        for i in 0..n {
            if taken[i] {
                continue;
            }
            let kind = self.cell.numbers[i];
            for t in &translations {
                let p = self.cell.positions[i] + t;
                let j = self.site_at(&p, kind).ok()??;
                if taken[j] {
                    return None;
                }
                taken[j] = true;
            }
            positions.push(wrap(to_new * self.cell.positions[i]));
            numbers.push(kind);
        }
        if positions.len() * m != n {
            return None;
        }
        Some(Cell::new(MoyoLattice { basis }, positions, numbers))
    }

    /// Whether some lattice rotation other than the identity, with some
    /// translation, maps the structure onto itself; None when the budget
    /// runs out.
    fn has_point_operation(&mut self) -> Option<bool> {
        let src = self.pivots[0];
        for r in lattice_rotations(&self.cell.lattice, self.symprec) {
            if r == Matrix3::identity() {
                continue;
            }
            let from = r * self.cell.positions[src];
            for k in 0..self.pivots.len() {
                let t = self.cell.positions[self.pivots[k]] - from;
                if self.maps_onto(&r, &t).ok()? {
                    return Some(true);
                }
            }
        }
        Some(false)
    }
}

struct OutOfBudget;

fn wrap(p: Vector3<f64>) -> Vector3<f64> {
    p.map(|x| {
        let w = x - x.floor();
        if w >= 1.0 { 0.0 } else { w }
    })
}

/// A stride through 0..n that visits every site once (coprime to n), near
/// n / φ so consecutive checks are far apart in the file's order.
fn stride_coprime(n: usize) -> usize {
    if n < 3 {
        return 1;
    }
    let mut s = ((n as f64) / 1.618_033_988_75) as usize;
    while gcd(s, n) != 1 {
        s += 1;
    }
    s
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn det3(h: &[[i64; 3]; 3]) -> i64 {
    h[0][0] * (h[1][1] * h[2][2] - h[1][2] * h[2][1])
        - h[0][1] * (h[1][0] * h[2][2] - h[1][2] * h[2][0])
        + h[0][2] * (h[1][0] * h[2][1] - h[1][1] * h[2][0])
}

/// Three rows spanning the integer lattice the `rows` generate (row
/// echelon form by Euclid's algorithm, column by column); None when they
/// span fewer than three dimensions.
fn hermite_basis(mut rows: Vec<[i64; 3]>) -> Option<[[i64; 3]; 3]> {
    let mut out = [[0i64; 3]; 3];
    for (c, slot) in out.iter_mut().enumerate() {
        // Reduce column c of every row to one non-zero entry.
        loop {
            let mut nz: Vec<usize> = (0..rows.len()).filter(|&r| rows[r][c] != 0).collect();
            if nz.len() <= 1 {
                break;
            }
            nz.sort_by_key(|&r| rows[r][c].abs());
            let p = nz[0];
            let pivot = rows[p];
            for &r in &nz[1..] {
                let q = rows[r][c] / pivot[c];
                for k in 0..3 {
                    rows[r][k] -= q * pivot[k];
                }
            }
        }
        let p = (0..rows.len()).find(|&r| rows[r][c] != 0)?;
        *slot = rows.swap_remove(p);
    }
    Some(out)
}

/// Integer matrices (columns in {-1, 0, 1}³ of the Minkowski-reduced basis,
/// |det| = 1) that keep the metric: every column's length within 4·symprec
/// of the basis vector it replaces, and every angle's cosine within 0.2 —
/// a superset of moyo's lattice point group (it allows symprec and 5°).
fn lattice_rotations(lattice: &MoyoLattice, symprec: f64) -> Vec<Matrix3<f64>> {
    let b = lattice.basis;
    let lengths: Vec<f64> = (0..3).map(|i| b.column(i).norm()).collect();
    let mut cands: [Vec<Vector3<f64>>; 3] = [vec![], vec![], vec![]];
    for x in -1..=1 {
        for y in -1..=1 {
            for z in -1..=1 {
                let c = Vector3::new(x as f64, y as f64, z as f64);
                let len = (b * c).norm();
                for i in 0..3 {
                    if (len - lengths[i]).abs() < 4.0 * symprec {
                        cands[i].push(c);
                    }
                }
            }
        }
    }
    let cos = |u: Vector3<f64>, v: Vector3<f64>| u.dot(&v) / (u.norm() * v.norm());
    let (a0, a1, a2) = (
        b.column(0).into_owned(),
        b.column(1).into_owned(),
        b.column(2).into_owned(),
    );
    let mut out = Vec::new();
    for c0 in &cands[0] {
        for c1 in &cands[1] {
            let (v0, v1) = (b * c0, b * c1);
            if (cos(v0, v1) - cos(a0, a1)).abs() > 0.2 {
                continue;
            }
            for c2 in &cands[2] {
                let r = Matrix3::from_columns(&[*c0, *c1, *c2]);
                if (r.determinant().abs() - 1.0).abs() > 1e-6 {
                    continue;
                }
                let v2 = b * c2;
                if (cos(v1, v2) - cos(a1, a2)).abs() > 0.2
                    || (cos(v2, v0) - cos(a2, a0)).abs() > 0.2
                {
                    continue;
                }
                // The columns are the images of the basis vectors, so R
                // is the rotation's action on fractional coordinates.
                out.push(r);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hermite_basis_spans_the_generated_lattice() {
        // Translations of a 2×3×1 supercell in units of 1/6.
        let rows = vec![
            [3, 0, 0],
            [0, 2, 0],
            [3, 2, 0],
            [6, 0, 0],
            [0, 6, 0],
            [0, 0, 6],
        ];
        let h = hermite_basis(rows).expect("three dimensions");
        assert_eq!(det3(&h).abs(), 3 * 2 * 6);
        assert!(hermite_basis(vec![[1, 0, 0], [2, 0, 0]]).is_none());
    }

    #[test]
    fn strides_visit_every_site_once() {
        for n in [1, 2, 3, 10, 2001, 10_648] {
            let s = stride_coprime(n);
            let mut seen = vec![false; n];
            for i in 0..n {
                seen[(i * s) % n] = true;
            }
            assert!(seen.iter().all(|&x| x), "{n}");
        }
    }
}
