//! Berth's scheduler (the kube-scheduler role).
