//! The shared latent space (issue 15), first layer: every modality on a
//! common grid ([`grid`]), and the models learned on those vectors —
//! [`pca::Pca`] and [`nmf::Nmf`] (fit once, transform many times; masked
//! points handled by least squares on what a spectrum covers). Stage 0 of
//! the ranking (no training: cosine similarity on the grid) is
//! [`grid::rank_by_cosine`]; every later stage must beat it. Stage 1
//! ([`joint`]: per-view whitened PCA, multi-set ridge CCA with the
//! structure as anchor, Procrustes measured → simulated) is a model file
//! trained on candidates. The map
//! ([`map`]) places measurements ([`measured`]) and candidate structures
//! ([`candidates`]) of every modality in one space.

pub mod autoencoder;
pub mod candidates;
pub mod contrastive;
pub mod grid;
pub mod joint;
pub mod layout;
pub mod map;
pub mod measured;
pub mod nmf;
pub mod pca;
pub mod pls;
pub mod project;
pub mod standards;

pub use autoencoder::{Autoencoder, AutoencoderOptions};
pub use candidates::{
    CandidateOptions, CandidateSet, CandidateViews, ViewKey, XanesLandmarks, candidates_of,
};
pub use grid::{GridError, GridSpec, Modality, Profile};
pub use joint::{JointModel, JointOptions};
pub use layout::{Layout, TsneOptions, UmapOptions};
pub use map::{LatentMap, MapOptions, MapPoint, MeasuredView, build_map};
pub use measured::{MeasuredOptions, measured_views};
pub use nmf::{Nmf, NmfFit, NmfOptions};
pub use pca::{LatentError, Pca};
pub use pls::Pls;
