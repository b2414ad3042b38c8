//! Berth's node agent (the kubelet role).
