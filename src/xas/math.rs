//! Numerical helpers shared by the XAS steps.
