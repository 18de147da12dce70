//! API shapes.
