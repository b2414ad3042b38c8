//! Simulated nodes (the kwok idea): pods bound to them become Running and Ready without processes.
