//! `berth scheduler explain POD`: why the scheduler put a pod where it did (or nowhere): the
//! nodes it rejected and why, and each scored node's per-plugin scores. Reads the scheduler's
//! recent decisions from `/debug/berth/scheduler/` on the API server.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::Value;

#[derive(Args, Debug)]
pub struct SchedulerArgs {
    #[command(subcommand)]
    command: SchedulerCommand,
}

#[derive(Subcommand, Debug)]
enum SchedulerCommand {
    /// Show the scheduler's last decision for a pod: rejected nodes with reasons, scored nodes
    /// with each plugin's score.
    Explain(ExplainArgs),
}

#[derive(Args, Debug)]
struct ExplainArgs {
    /// The pod's name.
    pod: String,
    /// The pod's namespace.
    #[arg(short, long, default_value = "default")]
    namespace: String,
    /// Path to the kubeconfig (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, env = "KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    /// Output format: human (default) or json.
    #[arg(short, long, default_value = "human")]
    output: String,
}

pub fn run(args: SchedulerArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match args.command {
        SchedulerCommand::Explain(a) => rt.block_on(explain(a)),
    }
}

async fn client(kubeconfig: Option<&PathBuf>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .context("invalid kubeconfig")?
        }
        None => kube::Config::infer()
            .await
            .context("no kubeconfig (pass --kubeconfig or set KUBECONFIG)")?,
    };
    kube::Client::try_from(config).context("cannot build a client")
}

async fn explain(args: ExplainArgs) -> anyhow::Result<()> {
    let client = client(args.kubeconfig.as_ref()).await?;
    let path = format!(
        "/debug/berth/scheduler/pods/{}/{}",
        args.namespace, args.pod
    );
    let request = http::Request::get(&path)
        .body(Vec::new())
        .context("cannot build the request")?;
    let decision: Value = match client.request(request).await {
        Ok(v) => v,
        Err(kube::Error::Api(status)) if status.code == 404 => bail!(
            "the scheduler has no recent decision for pod {}/{} (it keeps the last 10,000; pods bound by name or by another scheduler have none)",
            args.namespace,
            args.pod
        ),
        Err(e) => return Err(e).context("cannot read the scheduler's decision"),
    };
    if args.output == "json" {
        println!("{}", serde_json::to_string_pretty(&decision)?);
        return Ok(());
    }
    print!("{}", render(&decision));
    Ok(())
}

/// The human form of one decision.
fn render(d: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let mut out = format!(
        "Pod {}/{} (attempt {}, {})\n",
        s(&d["namespace"]),
        s(&d["name"]),
        n(&d["attempt"]),
        s(&d["time"])
    );
    match d["node"].as_str() {
        Some(node) => out.push_str(&format!("Scheduled to: {node}\n")),
        None => out.push_str(&format!("Not scheduled: {}\n", s(&d["message"]))),
    }
    out.push_str(&format!(
        "Nodes: {} in the cluster, {} evaluated, {} feasible\n",
        n(&d["nodesTotal"]),
        n(&d["nodesEvaluated"]),
        n(&d["nodesFeasible"])
    ));
    if let Some(counts) = d["rejectionCounts"].as_object()
        && !counts.is_empty()
    {
        out.push_str("\nRejected nodes by reason:\n");
        for (reason, count) in counts {
            let count = count.as_u64().unwrap_or(0);
            out.push_str(&format!("  {count:>5}  {reason}\n"));
        }
    }
    if let Some(scored) = d["scored"].as_array()
        && !scored.is_empty()
    {
        let plugins: Vec<String> = scored[0]["scores"]
            .as_array()
            .map(|ps| ps.iter().map(|p| s(&p["plugin"])).collect())
            .unwrap_or_default();
        out.push_str("\nScored nodes (best first; each plugin's normalized score x weight):\n");
        let widths: Vec<usize> = plugins.iter().map(|p| p.len().max(7)).collect();
        let mut header = format!("  {:<28} {:>6}", "NODE", "TOTAL");
        for p in &plugins {
            header.push_str(&format!("  {p}"));
        }
        out.push_str(&header);
        out.push('\n');
        for node in scored {
            let mut line = format!(
                "  {:<28} {:>6}",
                s(&node["node"]),
                node["total"].as_i64().unwrap_or(0)
            );
            for (i, p) in node["scores"].as_array().into_iter().flatten().enumerate() {
                let cell = format!(
                    "{}x{}",
                    p["normalized"].as_i64().unwrap_or(0),
                    p["weight"].as_i64().unwrap_or(0)
                );
                let width = widths.get(i).copied().unwrap_or(7);
                line.push_str(&format!("  {cell:>width$}"));
            }
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::render;
    use serde_json::json;

    #[test]
    fn renders_scores_and_rejections() {
        let d = json!({
            "namespace": "default", "name": "web-1", "attempt": 1, "time": "2026-11-23T00:00:00Z",
            "node": "n2", "nodesTotal": 3, "nodesEvaluated": 3, "nodesFeasible": 2,
            "rejectionCounts": {"Insufficient cpu": 1},
            "scored": [
                {"node": "n2", "total": 300, "scores": [{"plugin": "NodeResourcesFit", "raw": 90, "normalized": 90, "weight": 1}]},
                {"node": "n1", "total": 250, "scores": [{"plugin": "NodeResourcesFit", "raw": 50, "normalized": 50, "weight": 1}]}
            ]
        });
        let text = render(&d);
        assert!(text.contains("Scheduled to: n2"), "{text}");
        assert!(text.contains("    1  Insufficient cpu"), "{text}");
        let n2 = text.find("n2 ").unwrap_or(usize::MAX);
        let n1 = text.find("n1 ").unwrap_or(0);
        assert!(n2 < n1, "best first: {text}");
        assert!(text.contains("90x1"), "{text}");
    }
}
