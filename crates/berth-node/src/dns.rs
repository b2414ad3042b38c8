//! The pod's `/etc/hosts` and `/etc/resolv.conf` as kubelet writes them (`kubelet_pods.go`
//! `managedHostsFileContent`, `dns.go`), bind-mounted into each container.

use k8s_openapi::api::core::v1::Pod;

/// Upstream's `ndots` for cluster DNS.
const NDOTS: &str = "ndots:5";

/// The kubelet-managed hosts file.
pub fn hosts_file(pod: &Pod, pod_ip: &str, hostname: &str) -> String {
    let mut out = String::from(
        "# Kubernetes-managed hosts file.\n\
         127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         fe00::0\tip6-mcastprefix\n\
         fe00::1\tip6-allnodes\n\
         fe00::2\tip6-allrouters\n",
    );
    let spec = pod.spec.as_ref();
    let fqdn = spec
        .and_then(|s| s.subdomain.as_deref())
        .filter(|s| !s.is_empty())
        .map(|sub| {
            let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
            format!("{hostname}.{sub}.{ns}.svc.cluster.local")
        });
    match fqdn {
        Some(fqdn) => out.push_str(&format!("{pod_ip}\t{fqdn}\t{hostname}\n")),
        None => out.push_str(&format!("{pod_ip}\t{hostname}\n")),
    }
    let aliases = spec.and_then(|s| s.host_aliases.as_ref());
    if let Some(aliases) = aliases.filter(|a| !a.is_empty()) {
        out.push_str("\n# Entries added by HostAliases.\n");
        for a in aliases {
            let names = a.hostnames.clone().unwrap_or_default().join("\t");
            out.push_str(&format!("{}\t{names}\n", a.ip));
        }
    }
    out
}

/// The resolv.conf for the pod, or `None` to leave the host's (dnsPolicy `Default`, or
/// `ClusterFirst` without a cluster DNS server).
pub fn resolv_conf(
    pod: &Pod,
    cluster_dns: Option<std::net::Ipv4Addr>,
    domain: &str,
    host_resolv: &str,
) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let host_network = spec.host_network.unwrap_or(false);
    let policy = spec.dns_policy.as_deref().unwrap_or("ClusterFirst");
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let host_search: Vec<String> = host_resolv
        .lines()
        .filter_map(|l| l.strip_prefix("search "))
        .flat_map(|l| l.split_whitespace().map(str::to_string))
        .collect();
    let (mut servers, mut searches, mut options): (Vec<String>, Vec<String>, Vec<String>) =
        match policy {
            "ClusterFirstWithHostNet" | "ClusterFirst"
                if !(host_network && policy == "ClusterFirst") =>
            {
                let dns = cluster_dns?;
                let mut search = vec![
                    format!("{ns}.svc.{domain}"),
                    format!("svc.{domain}"),
                    domain.to_string(),
                ];
                search.extend(host_search);
                (vec![dns.to_string()], search, vec![NDOTS.to_string()])
            }
            "None" => (Vec::new(), Vec::new(), Vec::new()),
            _ => return None,
        };
    if let Some(cfg) = &spec.dns_config {
        servers.extend(cfg.nameservers.iter().flatten().cloned());
        searches.extend(cfg.searches.iter().flatten().cloned());
        for o in cfg.options.iter().flatten() {
            let opt = match &o.value {
                Some(v) => format!("{}:{v}", o.name.clone().unwrap_or_default()),
                None => o.name.clone().unwrap_or_default(),
            };
            let key = opt.split(':').next().unwrap_or_default().to_string();
            options.retain(|x| x.split(':').next() != Some(key.as_str()));
            options.push(opt);
        }
    }
    searches.dedup();
    let mut out = String::new();
    if !searches.is_empty() {
        out.push_str(&format!("search {}\n", searches.join(" ")));
    }
    for s in servers {
        out.push_str(&format!("nameserver {s}\n"));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "shop"},
            "spec": spec
        }))
        .unwrap()
    }

    #[test]
    fn cluster_first_resolv_conf() {
        let p = pod(serde_json::json!({"containers": []}));
        let dns = Some("10.96.0.10".parse().unwrap());
        let text = resolv_conf(
            &p,
            dns,
            "cluster.local",
            "search corp.example\nnameserver 1.1.1.1\n",
        )
        .unwrap();
        assert_eq!(
            text,
            "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\n\
             nameserver 10.96.0.10\noptions ndots:5\n"
        );
        assert!(resolv_conf(&p, None, "cluster.local", "").is_none());
        let default = pod(serde_json::json!({"containers": [], "dnsPolicy": "Default"}));
        assert!(resolv_conf(&default, dns, "cluster.local", "").is_none());
        let none = pod(serde_json::json!({"containers": [], "dnsPolicy": "None",
            "dnsConfig": {"nameservers": ["8.8.8.8"], "options": [{"name": "ndots", "value": "2"}]}}));
        assert_eq!(
            resolv_conf(&none, dns, "cluster.local", "").unwrap(),
            "nameserver 8.8.8.8\noptions ndots:2\n"
        );
    }

    #[test]
    fn hosts_file_has_the_pod_and_aliases() {
        let p = pod(
            serde_json::json!({"containers": [], "hostAliases": [{"ip": "1.2.3.4", "hostnames": ["a", "b"]}]}),
        );
        let text = hosts_file(&p, "10.244.0.7", "p");
        assert!(text.starts_with("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"));
        assert!(text.contains("10.244.0.7\tp\n"));
        assert!(text.ends_with("# Entries added by HostAliases.\n1.2.3.4\ta\tb\n"));
    }
}
