//! Mitigation: acting on what detection found, such as cutting a blocked attacker's connections.

pub mod reset;
