//! What a crashed Berth leaves behind (processes in its cgroups, pod network namespaces) is
//! removed when the next agent starts.

use std::time::Duration;

use berth_apiserver::testing::TestCluster;
use berth_node::{NodeAgent, NodeAgentConfig};

#[tokio::test]
async fn start_up_kills_leftover_processes_and_removes_stale_namespaces() {
    let parent = "berth-test-40";
    let cgroup = format!("/sys/fs/cgroup/memory/{parent}/podstale");
    std::fs::create_dir_all(&cgroup).unwrap();
    let mut child = std::process::Command::new("sleep")
        .arg("1000")
        .spawn()
        .unwrap();
    std::fs::write(format!("{cgroup}/cgroup.procs"), child.id().to_string()).unwrap();
    let netns = "bt40-stale";
    let status = std::process::Command::new("ip")
        .args(["netns", "add", netns])
        .status()
        .unwrap();
    assert!(status.success());

    let cluster = TestCluster::start().await.unwrap();
    let root = tempfile::tempdir().unwrap();
    let mut config = NodeAgentConfig::new("node-40", root.path());
    config.pod_cidr = "10.200.40.0/24".into();
    config.bridge_name = "bt40".into();
    config.netns_prefix = "bt40-".into();
    config.cgroup_parent = parent.into();
    let agent = NodeAgent::new(cluster.client.clone(), config)
        .await
        .unwrap();

    // The leftover process was killed (we reap it here: it is our child).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "leftover process survived"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!std::path::Path::new(&cgroup).exists());
    assert!(!std::path::Path::new("/var/run/netns").join(netns).exists());

    let (tx, rx) = tokio::sync::watch::channel(false);
    let run = tokio::spawn(agent.run(rx));
    tx.send(true).unwrap();
    run.await.unwrap();
}
