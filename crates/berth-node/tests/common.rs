//! Shared test harness: an in-process API server and a node agent with its own bridge, pod
//! CIDR, network namespace prefix and cgroup parent, so tests can run in parallel.

#![allow(dead_code)]

use std::time::Duration;

use berth_apiserver::testing::TestCluster;
use berth_node::{NodeAgent, NodeAgentConfig};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use tokio::sync::watch;

pub struct Harness {
    pub cluster: TestCluster,
    pub client: kube::Client,
    pub node: String,
    pub logs: berth_node::LogReader,
    pub cidr_prefix: String,
    pub root: tempfile::TempDir,
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    pub usage: berth_node::UsageSource,
    pub metrics: std::sync::Arc<berth_node::ResourceMetrics>,
}

impl Harness {
    /// `index` (1..=50) keeps this test's bridge, CIDR and cgroups apart from other tests.
    pub async fn start(index: u8) -> Harness {
        Self::start_with(index, |_| {}).await
    }

    /// Like [`Harness::start`], with a chance to adjust the agent's configuration.
    pub async fn start_with(index: u8, adjust: impl FnOnce(&mut NodeAgentConfig)) -> Harness {
        let cluster = TestCluster::start().await.unwrap();
        let client = cluster.client.clone();
        let root = tempfile::tempdir().unwrap();
        let node = format!("node-{index}");
        let mut config = NodeAgentConfig::new(node.clone(), root.path().join("node"));
        let cidr_prefix = format!("10.{}.{}", 200 + index / 50, index);
        config.pod_cidr = format!("{cidr_prefix}.0/24");
        config.bridge_name = format!("bt{index}");
        config.netns_prefix = format!("bt{index}-");
        config.cgroup_parent = format!("berth-test-{index}");
        config.api_server_host = format!("{cidr_prefix}.1");
        config.volume_resync_period = Duration::from_secs(1);
        adjust(&mut config);
        let agent = NodeAgent::new(client.clone(), config).await.unwrap();
        let logs = agent.logs();
        let usage = agent.usage_source();
        let metrics = std::sync::Arc::new(agent.resource_metrics());
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(agent.run(rx));
        Harness {
            cluster,
            client,
            node,
            logs,
            cidr_prefix,
            root,
            shutdown,
            task: Some(task),
            usage,
            metrics,
        }
    }

    /// Creates a pod bound to this node (as the scheduler would).
    pub async fn create_pod(&self, mut pod: serde_json::Value) -> Pod {
        pod["spec"]["nodeName"] = serde_json::Value::String(self.node.clone());
        let pod: Pod = serde_json::from_value(pod).unwrap();
        Api::<Pod>::namespaced(self.client.clone(), "default")
            .create(&PostParams::default(), &pod)
            .await
            .unwrap()
    }

    pub fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "default")
    }

    /// Waits (up to `secs`) until the pod satisfies `check`; panics with the last status.
    pub async fn wait_pod(&self, name: &str, secs: u64, check: impl Fn(&Pod) -> bool) -> Pod {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let pod = self.pods().get_opt(name).await.unwrap();
            if let Some(pod) = &pod
                && check(pod)
            {
                return pod.clone();
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "pod {name} did not reach the expected state; last: {}",
                    serde_json::to_string_pretty(&pod.map(|p| p.status)).unwrap()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn wait_gone(&self, name: &str, secs: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while self.pods().get_opt(name).await.unwrap().is_some() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "pod {name} was not removed"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Reads a whole (non-follow) log.
    pub async fn read_log(
        &self,
        req: berth_node::LogRequest,
    ) -> Result<String, berth_apimachinery::status::ApiError> {
        let mut stream = self.logs.open(req).await?;
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        Ok(String::from_utf8(out).unwrap())
    }

    pub fn log_request(&self, pod: &Pod, container: &str) -> berth_node::LogRequest {
        berth_node::LogRequest {
            namespace: "default".into(),
            pod: pod.metadata.name.clone().unwrap(),
            pod_uid: pod.metadata.uid.clone().unwrap(),
            container: container.into(),
            ..Default::default()
        }
    }

    /// Signals shutdown and waits for the agent to finish.
    pub async fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(60), task)
                .await
                .expect("agent did not stop")
                .unwrap();
        }
    }
}

pub fn container_state<'a>(
    pod: &'a Pod,
    name: &str,
) -> Option<&'a k8s_openapi::api::core::v1::ContainerStatus> {
    pod.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .iter()
        .find(|c| c.name == name)
}

pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

pub fn condition(pod: &Pod, type_: &str) -> Option<String> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.status.clone())
}
