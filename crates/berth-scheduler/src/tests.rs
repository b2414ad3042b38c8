//! Unit tests of the filters, scores and the cycle over hand-built nodes and pods; expected
//! numbers are computed by hand from upstream's formulas.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    Affinity, Container, ContainerPort, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement,
    NodeSelectorTerm, NodeSpec, NodeStatus, Pod, PodAffinity, PodAffinityTerm, PodAntiAffinity,
    PodSpec, PreferredSchedulingTerm, ResourceRequirements, Taint, Toleration,
    TopologySpreadConstraint,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use rand::SeedableRng;

use crate::cache::Cache;
use crate::filters::{self, InterPodAffinityState, Rejection};
use crate::framework::{self, CycleInput, FitError, num_feasible_nodes_to_find};
use crate::podinfo::{NamespaceLabels, PodInfo};
use crate::resources::pod_resources;
use crate::scores;

fn quantities(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
        .collect()
}

fn node(name: &str, cpu: &str, memory: &str, pods: &str) -> Node {
    let mut n = Node::default();
    n.metadata.name = Some(name.into());
    n.metadata.labels = Some(BTreeMap::from([(
        "kubernetes.io/hostname".to_string(),
        name.to_string(),
    )]));
    n.spec = Some(NodeSpec::default());
    n.status = Some(NodeStatus {
        allocatable: Some(quantities(&[
            ("cpu", cpu),
            ("memory", memory),
            ("pods", pods),
        ])),
        ..Default::default()
    });
    n
}

fn container(requests: &[(&str, &str)]) -> Container {
    Container {
        name: "c".into(),
        image: Some("busybox".into()),
        resources: (!requests.is_empty()).then(|| ResourceRequirements {
            requests: Some(quantities(requests)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn pod(name: &str, requests: &[(&str, &str)]) -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some(name.into());
    p.metadata.namespace = Some("default".into());
    p.spec = Some(PodSpec {
        containers: vec![container(requests)],
        ..Default::default()
    });
    p
}

fn on_node(mut p: Pod, node: &str) -> Arc<Pod> {
    if let Some(s) = p.spec.as_mut() {
        s.node_name = Some(node.into());
    }
    Arc::new(p)
}

fn info(p: Pod) -> PodInfo {
    PodInfo::new(Arc::new(p))
}

fn cache_with(nodes: Vec<Node>, pods: Vec<Arc<Pod>>) -> Cache {
    let mut c = Cache::default();
    for n in nodes {
        c.upsert_node(Arc::new(n));
    }
    for p in pods {
        c.apply_pod(p);
    }
    c
}

fn taint(key: &str, value: &str, effect: &str) -> Taint {
    Taint {
        key: key.into(),
        value: Some(value.into()),
        effect: effect.into(),
        ..Default::default()
    }
}

#[test]
fn pod_requests_take_init_container_max_sidecars_and_overhead() {
    let mut p = pod("p", &[("cpu", "100m"), ("memory", "100Mi")]);
    let spec = p.spec.as_mut().unwrap();
    spec.containers.push(container(&[("cpu", "200m")]));
    let mut sidecar = container(&[("cpu", "50m")]);
    sidecar.restart_policy = Some("Always".into());
    spec.init_containers = Some(vec![
        sidecar,
        container(&[("cpu", "1"), ("memory", "10Mi")]),
    ]);
    spec.overhead = Some(quantities(&[("cpu", "10m")]));
    let r = pod_resources(&p);
    // containers 300m + sidecar 50m = 350m; init phase: sidecar 50m + 1000m = 1050m wins; +10m.
    assert_eq!(r.requests.milli_cpu, 1060);
    assert_eq!(r.requests.memory, 100 * 1024 * 1024);
    // Non-zero: the second container and the sidecar have no memory request -> 200Mi each:
    // 100 + 200 + 200 running together beats the init phase (200 + 10).
    assert_eq!(r.non_zero_memory, 500 * 1024 * 1024);
    let empty = pod_resources(&pod("e", &[]));
    assert_eq!(
        (empty.non_zero_milli_cpu, empty.non_zero_memory),
        (100, 200 * 1024 * 1024)
    );
    assert!(empty.requests.is_zero());
}

#[test]
fn resources_fit_reports_each_insufficient_resource_and_pod_count() {
    let c = cache_with(
        vec![node("n1", "2", "1Gi", "2")],
        vec![
            on_node(pod("a", &[("cpu", "1500m")]), "n1"),
            on_node(pod("b", &[]), "n1"),
        ],
    );
    let n = c.node("n1").unwrap();
    let err =
        filters::node_resources_fit(&info(pod("p", &[("cpu", "600m"), ("memory", "2Gi")])), n)
            .unwrap_err();
    assert_eq!(
        err.reasons,
        vec!["Too many pods", "Insufficient cpu", "Insufficient memory"]
    );
    assert!(err.resolvable);
    let c = cache_with(
        vec![node("n1", "2", "1Gi", "10")],
        vec![on_node(pod("a", &[("cpu", "1500m")]), "n1")],
    );
    assert!(
        filters::node_resources_fit(&info(pod("p", &[("cpu", "500m")])), c.node("n1").unwrap())
            .is_ok()
    );
}

#[test]
fn taints_unschedulable_affinity_and_ports() {
    let mut n = node("n1", "4", "4Gi", "110");
    n.spec.as_mut().unwrap().taints = Some(vec![taint("k", "v", "NoSchedule")]);
    let c = cache_with(vec![n], vec![]);
    let err = filters::taint_toleration(&info(pod("p", &[])), c.node("n1").unwrap()).unwrap_err();
    assert_eq!(err.reasons, vec!["node(s) had untolerated taint {k: v}"]);
    let mut tolerant = pod("p", &[]);
    tolerant.spec.as_mut().unwrap().tolerations = Some(vec![Toleration {
        key: Some("k".into()),
        operator: Some("Exists".into()),
        ..Default::default()
    }]);
    assert!(filters::taint_toleration(&info(tolerant), c.node("n1").unwrap()).is_ok());

    let mut cordoned = node("n2", "4", "4Gi", "110");
    cordoned.spec.as_mut().unwrap().unschedulable = Some(true);
    let c = cache_with(vec![cordoned], vec![]);
    let err = filters::node_unschedulable(&info(pod("p", &[])), c.node("n2").unwrap()).unwrap_err();
    assert_eq!(err.reasons, vec!["node(s) were unschedulable"]);

    let c = cache_with(vec![node("n3", "4", "4Gi", "110")], vec![]);
    let mut selective = pod("p", &[]);
    selective.spec.as_mut().unwrap().node_selector =
        Some(BTreeMap::from([("disk".to_string(), "ssd".to_string())]));
    let err = filters::node_affinity(&info(selective), c.node("n3").unwrap()).unwrap_err();
    assert_eq!(
        err.reasons,
        vec!["node(s) didn't match Pod's node affinity/selector"]
    );
    let mut by_name = pod("p", &[]);
    by_name.spec.as_mut().unwrap().affinity = Some(Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_fields: Some(vec![NodeSelectorRequirement {
                        key: "metadata.name".into(),
                        operator: "In".into(),
                        values: Some(vec!["n3".into()]),
                    }]),
                    ..Default::default()
                }],
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert!(filters::node_affinity(&info(by_name), c.node("n3").unwrap()).is_ok());

    let with_port = |name: &str, ip: Option<&str>| {
        let mut p = pod(name, &[]);
        p.spec.as_mut().unwrap().containers[0].ports = Some(vec![ContainerPort {
            container_port: 80,
            host_port: Some(8080),
            host_ip: ip.map(String::from),
            ..Default::default()
        }]);
        p
    };
    let c = cache_with(
        vec![node("n4", "4", "4Gi", "110")],
        vec![on_node(with_port("a", Some("10.0.0.1")), "n4")],
    );
    let err = filters::node_ports(&info(with_port("p", None)), c.node("n4").unwrap()).unwrap_err();
    assert_eq!(
        err.reasons,
        vec!["node(s) didn't have free ports for the requested pod ports"]
    );
    assert!(
        filters::node_ports(
            &info(with_port("p", Some("10.0.0.2"))),
            c.node("n4").unwrap()
        )
        .is_ok()
    );
}

fn anti_affinity_pod(name: &str, app: &str) -> Pod {
    let mut p = pod(name, &[]);
    p.metadata.labels = Some(BTreeMap::from([("app".to_string(), app.to_string())]));
    p.spec.as_mut().unwrap().affinity = Some(Affinity {
        pod_anti_affinity: Some(PodAntiAffinity {
            required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                label_selector: Some(LabelSelector {
                    match_labels: Some(BTreeMap::from([("app".to_string(), app.to_string())])),
                    ..Default::default()
                }),
                topology_key: "kubernetes.io/hostname".into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    });
    p
}

#[test]
fn required_anti_affinity_by_hostname_both_ways() {
    let ns = NamespaceLabels::new();
    let c = cache_with(
        vec![node("n1", "4", "4Gi", "110"), node("n2", "4", "4Gi", "110")],
        vec![on_node(anti_affinity_pod("a", "web"), "n1")],
    );
    let incoming = info(anti_affinity_pod("b", "web"));
    let state = InterPodAffinityState::compute(&incoming, &c, &ns);
    let err = filters::inter_pod_affinity(&incoming, c.node("n1").unwrap(), &state).unwrap_err();
    // The existing pod's rule is checked first.
    assert_eq!(
        err.reasons,
        vec!["node(s) didn't satisfy existing pods anti-affinity rules"]
    );
    assert!(filters::inter_pod_affinity(&incoming, c.node("n2").unwrap(), &state).is_ok());

    // A plain pod next to an anti-affinity pod of another app is fine; a pod of that app
    // without its own rule is still kept away by the existing pod's rule.
    let mut plain = pod("c", &[]);
    plain.metadata.labels = Some(BTreeMap::from([("app".to_string(), "web".to_string())]));
    let plain = info(plain);
    let state = InterPodAffinityState::compute(&plain, &c, &ns);
    assert!(filters::inter_pod_affinity(&plain, c.node("n1").unwrap(), &state).is_err());

    // The incoming pod's own rule against an existing plain pod.
    let mut existing = pod("d", &[]);
    existing.metadata.labels = Some(BTreeMap::from([("app".to_string(), "db".to_string())]));
    let c = cache_with(
        vec![node("n1", "4", "4Gi", "110")],
        vec![on_node(existing, "n1")],
    );
    let incoming = info(anti_affinity_pod("e", "db"));
    let state = InterPodAffinityState::compute(&incoming, &c, &ns);
    let err = filters::inter_pod_affinity(&incoming, c.node("n1").unwrap(), &state).unwrap_err();
    assert_eq!(
        err.reasons,
        vec!["node(s) didn't match pod anti-affinity rules"]
    );
}

#[test]
fn fit_error_message_matches_upstream_format() {
    let err = FitError {
        num_all_nodes: 3,
        rejections: vec![
            (
                "a".into(),
                Rejection {
                    plugin: "TaintToleration",
                    reasons: vec!["node(s) had untolerated taint {k: v}".into()],
                    resolvable: false,
                },
            ),
            (
                "b".into(),
                Rejection {
                    plugin: "NodeResourcesFit",
                    reasons: vec!["Insufficient cpu".into()],
                    resolvable: true,
                },
            ),
            (
                "c".into(),
                Rejection {
                    plugin: "TaintToleration",
                    reasons: vec!["node(s) had untolerated taint {k: v}".into()],
                    resolvable: false,
                },
            ),
        ],
    };
    assert_eq!(
        err.message(),
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {k: v}. \
         preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, \
         2 Preemption is not helpful for scheduling.."
    );
    let none = FitError {
        num_all_nodes: 0,
        rejections: vec![],
    };
    assert_eq!(none.message(), "no nodes available to schedule pods");
}

#[test]
fn least_allocated_and_balanced_allocation_by_hand() {
    // Node 4 cpu / 8Gi with a pod requesting 1 cpu / 2Gi; incoming 1 cpu / 1Gi.
    let c = cache_with(
        vec![node("n1", "4", "8Gi", "110")],
        vec![on_node(pod("a", &[("cpu", "1"), ("memory", "2Gi")]), "n1")],
    );
    let n = c.node("n1").unwrap();
    let p = info(pod("p", &[("cpu", "1"), ("memory", "1Gi")]));
    // cpu: (4000-2000)*100/4000 = 50; memory: (8-3)*100/8 = 62 (integer division); mean 56.
    assert_eq!(scores::least_allocated(&p, n), 56);
    // fractions 0.5 and 0.375: std = 0.0625 -> (1 - 0.0625) * 100 = 93.
    assert_eq!(scores::balanced_allocation(&p, n), 93);
    // A pod without requests counts as 100m / 200Mi for LeastAllocated:
    // cpu (4000-1100)*100/4000 = 72; memory (8192-2048-200)*100/8192 = 72; mean 72.
    assert_eq!(scores::least_allocated(&info(pod("q", &[])), n), 72);
    assert_eq!(scores::least_requested_score(5, 4), 0);
    assert_eq!(scores::balanced_resource_score(&[1, 1, 4], &[4, 4, 4]), 64);
}

#[test]
fn taint_and_node_affinity_scores_normalize_like_upstream() {
    let mut n1 = node("n1", "4", "4Gi", "110");
    n1.spec.as_mut().unwrap().taints = Some(vec![
        taint("a", "1", "PreferNoSchedule"),
        taint("b", "1", "PreferNoSchedule"),
    ]);
    let mut n2 = node("n2", "4", "4Gi", "110");
    n2.spec.as_mut().unwrap().taints = Some(vec![taint("a", "1", "PreferNoSchedule")]);
    let n3 = node("n3", "4", "4Gi", "110");
    let c = cache_with(vec![n1, n2, n3], vec![]);
    let p = info(pod("p", &[]));
    let mut raw: Vec<i64> = ["n1", "n2", "n3"]
        .iter()
        .map(|n| scores::taint_toleration(&p, c.node(n).unwrap()))
        .collect();
    assert_eq!(raw, vec![2, 1, 0]);
    scores::default_normalize(&mut raw, true);
    assert_eq!(raw, vec![0, 50, 100]);

    let mut preferring = pod("p", &[]);
    let term = |key: &str, weight: i32| PreferredSchedulingTerm {
        weight,
        preference: NodeSelectorTerm {
            match_expressions: Some(vec![NodeSelectorRequirement {
                key: key.into(),
                operator: "Exists".into(),
                values: None,
            }]),
            ..Default::default()
        },
    };
    preferring.spec.as_mut().unwrap().affinity = Some(Affinity {
        node_affinity: Some(NodeAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![
                term("kubernetes.io/hostname", 3),
                term("gpu", 7),
            ]),
            ..Default::default()
        }),
        ..Default::default()
    });
    let mut gpu = node("g", "4", "4Gi", "110");
    gpu.metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("gpu".into(), "yes".into());
    let c = cache_with(vec![gpu, node("h", "4", "4Gi", "110")], vec![]);
    let p = info(preferring);
    let mut raw = vec![
        scores::node_affinity(&p, c.node("g").unwrap()),
        scores::node_affinity(&p, c.node("h").unwrap()),
    ];
    assert_eq!(raw, vec![10, 3]);
    scores::default_normalize(&mut raw, false);
    assert_eq!(raw, vec![100, 30]);
}

#[test]
fn topology_spread_soft_constraint_by_hand() {
    let labelled = |name: &str| {
        let mut p = pod(name, &[]);
        p.metadata.labels = Some(BTreeMap::from([("app".to_string(), "web".to_string())]));
        p
    };
    let c = cache_with(
        vec![
            node("n1", "4", "4Gi", "110"),
            node("n2", "4", "4Gi", "110"),
            node("n3", "4", "4Gi", "110"),
        ],
        vec![
            on_node(labelled("a"), "n1"),
            on_node(labelled("b"), "n1"),
            on_node(labelled("c"), "n2"),
        ],
    );
    let mut incoming = labelled("p");
    incoming.spec.as_mut().unwrap().topology_spread_constraints =
        Some(vec![TopologySpreadConstraint {
            max_skew: 1,
            topology_key: "kubernetes.io/hostname".into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            label_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
                ..Default::default()
            }),
            ..Default::default()
        }]);
    let p = info(incoming);
    let feasible: Vec<_> = ["n1", "n2", "n3"]
        .iter()
        .map(|n| c.node(n).unwrap())
        .collect();
    let constraints = scores::pod_soft_constraints(&p).unwrap();
    let state = scores::SpreadState::compute(&p, constraints, false, &feasible, &c);
    // weight ln(3 + 2) = 1.609; scores round(count * 1.609 + 0): 2 -> 3, 1 -> 2, 0 -> 0.
    let mut s: Vec<i64> = feasible.iter().map(|n| state.score(&p, n)).collect();
    assert_eq!(s, vec![3, 2, 0]);
    state.normalize(&["n1", "n2", "n3"], &mut s);
    // 100 * (3 + 0 - s) / 3
    assert_eq!(s, vec![0, 33, 100]);
}

#[test]
fn cycle_picks_the_emptier_node_and_assumes_block_capacity() {
    let ns = NamespaceLabels::new();
    let mut c = cache_with(
        vec![
            node("busy", "4", "8Gi", "110"),
            node("idle", "4", "8Gi", "110"),
        ],
        vec![on_node(
            pod("a", &[("cpu", "3"), ("memory", "4Gi")]),
            "busy",
        )],
    );
    let p = info(pod("p", &[("cpu", "1"), ("memory", "1Gi")]));
    let input = CycleInput {
        pod: &p,
        namespace_labels: &ns,
        default_spread_selector: vec![],
        percentage_of_nodes_to_score: None,
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let mut start = 0;
    let r = framework::schedule(&input, &c, &mut start, &mut rng);
    assert_eq!(r.outcome.as_deref().ok(), Some("idle"));
    assert_eq!(r.decision.scored[0].node, "idle");
    assert_eq!(r.decision.nodes_feasible, 2);
    c.assume(Arc::new(info(pod("x", &[("cpu", "3")]))), "idle");
    let big = info(pod("big", &[("cpu", "2")]));
    let input = CycleInput { pod: &big, ..input };
    let r = framework::schedule(&input, &c, &mut start, &mut rng);
    let err = r.outcome.unwrap_err();
    assert!(
        err.message()
            .starts_with("0/2 nodes are available: 2 Insufficient cpu."),
        "{}",
        err.message()
    );
    assert_eq!(
        r.decision.rejection_counts.get("Insufficient cpu"),
        Some(&2)
    );
    c.forget("default/x");
    assert!(
        framework::schedule(&input, &c, &mut start, &mut rng)
            .outcome
            .is_ok()
    );
}

#[test]
fn ties_are_broken_randomly() {
    let ns = NamespaceLabels::new();
    let c = cache_with(
        (0..4)
            .map(|i| node(&format!("n{i}"), "4", "8Gi", "110"))
            .collect(),
        vec![],
    );
    let p = info(pod("p", &[]));
    let input = CycleInput {
        pod: &p,
        namespace_labels: &ns,
        default_spread_selector: vec![],
        percentage_of_nodes_to_score: None,
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..64 {
        let mut start = 0;
        seen.insert(
            framework::schedule(&input, &c, &mut start, &mut rng)
                .outcome
                .unwrap(),
        );
    }
    assert_eq!(seen.len(), 4, "all equally good nodes get picked: {seen:?}");
}

#[test]
fn adaptive_share_of_nodes() {
    assert_eq!(num_feasible_nodes_to_find(None, 50), 50);
    assert_eq!(num_feasible_nodes_to_find(None, 1000), 420);
    assert_eq!(num_feasible_nodes_to_find(None, 5000), 500);
    // 150 nodes: 48% would be 72, but at least 100 are looked at.
    assert_eq!(num_feasible_nodes_to_find(None, 150), 100);
    assert_eq!(num_feasible_nodes_to_find(Some(100), 1000), 1000);
}

#[test]
fn topology_spread_hard_constraint_by_hand() {
    let labelled = |name: &str| {
        let mut p = pod(name, &[]);
        p.metadata.labels = Some(BTreeMap::from([("app".to_string(), "web".to_string())]));
        p
    };
    let zoned = |name: &str, zone: Option<&str>| {
        let mut n = node(name, "4", "4Gi", "110");
        if let Some(z) = zone {
            n.metadata
                .labels
                .as_mut()
                .unwrap()
                .insert(scores::LABEL_ZONE.into(), z.into());
        }
        n
    };
    // Zone a holds 2 matching pods, zone b 0; maxSkew 1.
    let c = cache_with(
        vec![
            zoned("a1", Some("a")),
            zoned("b1", Some("b")),
            zoned("x", None),
        ],
        vec![on_node(labelled("p1"), "a1"), on_node(labelled("p2"), "a1")],
    );
    let mut incoming = labelled("new");
    incoming.spec.as_mut().unwrap().topology_spread_constraints =
        Some(vec![TopologySpreadConstraint {
            max_skew: 1,
            topology_key: scores::LABEL_ZONE.into(),
            when_unsatisfiable: "DoNotSchedule".into(),
            label_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
                ..Default::default()
            }),
            ..Default::default()
        }]);
    let p = info(incoming);
    let state = filters::SpreadFilterState::compute(&p, &c);
    // a: 2 + 1 - 0 = 3 > 1; b: 0 + 1 - 0 = 1.
    let err = filters::pod_topology_spread(c.node("a1").unwrap(), &state).unwrap_err();
    assert_eq!(err.reasons, vec![filters::ERR_SPREAD]);
    assert!(filters::pod_topology_spread(c.node("b1").unwrap(), &state).is_ok());
    let err = filters::pod_topology_spread(c.node("x").unwrap(), &state).unwrap_err();
    assert_eq!(
        err.reasons,
        vec!["node(s) didn't match pod topology spread constraints (missing required label)"]
    );
    assert!(!err.resolvable);
}

#[test]
fn decision_log_is_bounded_and_answers_the_latest() {
    let log = crate::DecisionLog::new(2);
    let d = |name: &str, node: &str| crate::Decision {
        namespace: "ns".into(),
        name: name.into(),
        uid: String::new(),
        time: String::new(),
        attempt: 1,
        node: Some(node.into()),
        message: None,
        nodes_total: 1,
        nodes_evaluated: 1,
        nodes_feasible: 1,
        rejection_counts: BTreeMap::new(),
        rejected: vec![],
        scored: vec![],
    };
    log.record(d("a", "n1"));
    log.record(d("a", "n2"));
    assert_eq!(log.get("ns", "a").unwrap().node.as_deref(), Some("n2"));
    log.record(d("b", "n1"));
    log.record(d("c", "n1"));
    assert_eq!(log.len(), 2);
    assert!(log.get("ns", "a").is_none());
    assert!(log.get("ns", "c").is_some());
    let json = serde_json::to_value(log.get("ns", "c").unwrap()).unwrap();
    assert_eq!(json["nodesFeasible"], 1);
}

#[test]
fn required_affinity_lets_the_first_pod_in_and_then_colocates() {
    let ns = NamespaceLabels::new();
    let with_affinity = |name: &str| {
        let mut p = pod(name, &[]);
        p.metadata.labels = Some(BTreeMap::from([("app".to_string(), "cache".to_string())]));
        p.spec.as_mut().unwrap().affinity = Some(Affinity {
            pod_affinity: Some(PodAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                    label_selector: Some(LabelSelector {
                        match_labels: Some(BTreeMap::from([(
                            "app".to_string(),
                            "cache".to_string(),
                        )])),
                        ..Default::default()
                    }),
                    topology_key: "kubernetes.io/hostname".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        });
        p
    };
    let empty = cache_with(vec![node("n1", "4", "4Gi", "110")], vec![]);
    let first = info(with_affinity("a"));
    let state = InterPodAffinityState::compute(&first, &empty, &ns);
    assert!(filters::inter_pod_affinity(&first, empty.node("n1").unwrap(), &state).is_ok());

    let c = cache_with(
        vec![node("n1", "4", "4Gi", "110"), node("n2", "4", "4Gi", "110")],
        vec![on_node(with_affinity("a"), "n1")],
    );
    let second = info(with_affinity("b"));
    let state = InterPodAffinityState::compute(&second, &c, &ns);
    assert!(filters::inter_pod_affinity(&second, c.node("n1").unwrap(), &state).is_ok());
    let err = filters::inter_pod_affinity(&second, c.node("n2").unwrap(), &state).unwrap_err();
    assert_eq!(err.reasons, vec!["node(s) didn't match pod affinity rules"]);
    assert!(!err.resolvable);

    // Preferred scoring: an existing pod's required affinity pulls matching pods (weight 1).
    let plain_cache = info({
        let mut p = pod("c", &[]);
        p.metadata.labels = Some(BTreeMap::from([("app".to_string(), "cache".to_string())]));
        p
    });
    let scores_state = scores::AffinityScoreState::compute(&plain_cache, &c, &ns);
    let mut s = vec![
        scores_state.score(c.node("n1").unwrap()),
        scores_state.score(c.node("n2").unwrap()),
    ];
    assert_eq!(s, vec![1, 0]);
    scores_state.normalize(&mut s);
    assert_eq!(s, vec![100, 0]);
}
