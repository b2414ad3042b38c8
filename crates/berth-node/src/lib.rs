//! Berth's node agent (the kubelet role): registers a Node, keeps its lease and runs the pods
//! bound to it as local processes, each pod in its own cgroup and network namespace.
//!
//! There is no image runtime: a container is its `command` + `args` run on the host's
//! filesystem (a container without `command` waits with `CreateContainerError` saying so).
//! What of the pod spec is honoured:
//! - env (value, configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef, optional), envFrom
//!   with prefix, `$(VAR)` expansion, service links, KUBERNETES_SERVICE_HOST/PORT, HOSTNAME;
//!   PATH and HOME come from the agent's environment.
//! - workingDir (must exist on the host), runAsUser/runAsGroup, the pod host name (own UTS
//!   namespace), hostNetwork.
//! - resources: limits.memory and limits.cpu on the pod cgroup, requests.cpu as shares/weight;
//!   OOM kills are reported as `OOMKilled`.
//! - restartPolicy with kubelet's back-off, terminationGracePeriodSeconds, activeDeadlineSeconds,
//!   lifecycle postStart/preStop (exec, httpGet, sleep), init containers and sidecars,
//!   startup/liveness/readiness probes (httpGet, tcpSocket, exec; grpc as a TCP connect).
//! - `pods/exec` ([`PodExec`]): processes in a running container's context, with pipes or a
//!   terminal.
//! - volumes: emptyDir (Memory = tmpfs), configMap, secret, downwardAPI, projected (with
//!   service account tokens), hostPath; bind-mounted on `mountPath` in a private mount
//!   namespace per container (missing mount points are created on the host).

mod agent;
mod backoff;
mod cgroup;
mod config;
mod dns;
mod env;
mod error;
mod events;
mod exec;
mod expansion;
mod logs;
mod machine;
mod metrics;
mod network;
mod node;
mod pod;
mod probe;
mod quantity;
mod spawner;
mod usage;
mod volumes;

pub use agent::{NodeAgent, UsageSource};
pub use config::NodeAgentConfig;
pub use error::NodeError;
pub use exec::{ExecRequest, ExecSession, PodExec};
pub use logs::{LogReader, LogRequest, LogStream};
pub use metrics::{ContainerMetrics, NodeMetrics, PodMetrics, ResourceMetrics};
pub use usage::PodUsage;
