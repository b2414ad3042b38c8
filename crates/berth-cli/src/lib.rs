//! The platform commands of the `berth` CLI.
