//! Hostile bodies.
