//! Berth's workload controllers (part of the kube-controller-manager role).
