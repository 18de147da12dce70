//! Tests of the prompt scanner.
