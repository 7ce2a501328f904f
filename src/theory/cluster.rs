//! The cluster of atoms around an absorbing site of a crystal, with FEFF
//! unique potentials: what goes in the `ATOMS` and `POTENTIALS` cards.

use serde::Serialize;

use super::TheoryError;
use crate::structure::{self, Structure, first_site_of};

/// FEFF runs on larger clusters take minutes to hours (the path search
/// grows steeply with the atoms within RPATH), and FEFF's own arrays stop
/// near here: refused above this many atoms.
pub const MAX_CLUSTER_ATOMS: usize = 2000;

/// Largest cluster radius (Å) accepted.
pub const MAX_CLUSTER_RADIUS_ANG: f64 = 14.0;

/// Which atom absorbs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Absorber {
    /// The first site whose main species is this element.
    Element(String),
    /// A site index of the expanded cell.
    Site(usize),
}

/// One atom of the cluster, relative to the absorber.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterAtom {
    #[serde(rename = "xyz")]
    pub pos_ang: [f64; 3],
    pub z: u32,
    pub element: &'static str,
    pub ipot: usize,
    #[serde(rename = "r")]
    pub r_ang: f64,
}

/// One FEFF unique potential.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Potential {
    pub ipot: usize,
    pub z: u32,
    pub element: &'static str,
}

/// Atoms within a radius of the absorber (absorber first, then by distance)
/// and the unique potentials: 0 the absorber, then one per element in order
/// of first appearance outwards (the absorbing element elsewhere has its own).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    pub absorber_site: usize,
    pub absorber_element: &'static str,
    pub radius_ang: f64,
    pub atoms: Vec<ClusterAtom>,
    pub potentials: Vec<Potential>,
}

/// The site index of `absorber` in `s` (`file` names the structure in errors).
pub fn absorber_site(s: &Structure, absorber: &Absorber, file: &str) -> Result<usize, TheoryError> {
    match absorber {
        Absorber::Site(i) if *i < s.sites.len() => Ok(*i),
        Absorber::Site(i) => Err(TheoryError::NoSite {
            file: file.to_string(),
            index: *i,
            nsites: s.sites.len(),
        }),
        Absorber::Element(el) => first_site_of(s, el).ok_or_else(|| {
            let mut present: Vec<&str> = s.sites.iter().map(|x| x.main_species().element).collect();
            present.sort_unstable();
            present.dedup();
            TheoryError::NoAbsorber {
                file: file.to_string(),
                element: el.clone(),
                present: present.join(", "),
            }
        }),
    }
}

/// The cluster of radius `radius_ang` around the absorber: every periodic
/// image of every site (its main species) within the radius. Refuses a
/// radius outside (0, [`MAX_CLUSTER_RADIUS_ANG`]] and clusters of more than
/// [`MAX_CLUSTER_ATOMS`] atoms, the latter from the density before any
/// enumeration, so a huge request ends at once.
pub fn build_cluster(
    s: &Structure,
    absorber: &Absorber,
    radius_ang: f64,
    file: &str,
) -> Result<Cluster, TheoryError> {
    if !(radius_ang.is_finite() && radius_ang > 0.0 && radius_ang <= MAX_CLUSTER_RADIUS_ANG) {
        return Err(TheoryError::BadRadius {
            name: "cluster radius",
            value: radius_ang,
            min: 0.0,
            max: MAX_CLUSTER_RADIUS_ANG,
        });
    }
    let center = absorber_site(s, absorber, file)?;
    let too_large = |atoms: usize, estimated: bool| TheoryError::ClusterTooLarge {
        file: file.to_string(),
        radius_ang,
        atoms,
        estimated,
        max: MAX_CLUSTER_ATOMS,
    };
    let volume = s.lattice.volume_ang3();
    let sphere = 4.0 / 3.0 * std::f64::consts::PI * radius_ang.powi(3);
    let estimate = s.sites.len() as f64 * sphere / volume;
    // The sphere's atom count is the density times its volume to a few per
    // cent once it spans a few cells; 1.5× leaves room for small spheres.
    if estimate > 1.5 * MAX_CLUSTER_ATOMS as f64 {
        return Err(too_large(estimate.min(1e12) as usize, true));
    }
    let absorber_sp = s.sites[center].main_species();
    let mut atoms: Vec<ClusterAtom> = Vec::new();
    structure::for_each_image_within(s, center, radius_ang, |site, pos_ang, r_ang| {
        let sp = s.sites[site].main_species();
        atoms.push(ClusterAtom {
            pos_ang,
            z: sp.z,
            element: sp.element,
            ipot: 0,
            r_ang,
        });
        atoms.len() < MAX_CLUSTER_ATOMS
    });
    if atoms.len() >= MAX_CLUSTER_ATOMS {
        return Err(too_large(atoms.len(), false));
    }
    // Distance, then element, then position: the same list on every run.
    atoms.sort_by(|a, b| {
        a.r_ang
            .total_cmp(&b.r_ang)
            .then(a.z.cmp(&b.z))
            .then(a.pos_ang[0].total_cmp(&b.pos_ang[0]))
            .then(a.pos_ang[1].total_cmp(&b.pos_ang[1]))
            .then(a.pos_ang[2].total_cmp(&b.pos_ang[2]))
    });
    let mut potentials = vec![Potential {
        ipot: 0,
        z: absorber_sp.z,
        element: absorber_sp.element,
    }];
    for a in &mut atoms {
        a.ipot = match potentials.iter().skip(1).find(|p| p.z == a.z) {
            Some(p) => p.ipot,
            None => {
                let ipot = potentials.len();
                potentials.push(Potential {
                    ipot,
                    z: a.z,
                    element: a.element,
                });
                ipot
            }
        };
    }
    atoms.insert(
        0,
        ClusterAtom {
            pos_ang: [0.0; 3],
            z: absorber_sp.z,
            element: absorber_sp.element,
            ipot: 0,
            r_ang: 0.0,
        },
    );
    Ok(Cluster {
        absorber_site: center,
        absorber_element: absorber_sp.element,
        radius_ang,
        atoms,
        potentials,
    })
}
