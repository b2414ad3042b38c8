//! Reconciles App and CronApp resources.
