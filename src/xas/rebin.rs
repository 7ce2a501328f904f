//! (helper D fills this in)
