//! Renders App and CronApp specs into Kubernetes objects.
