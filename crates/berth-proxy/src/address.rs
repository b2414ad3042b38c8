//! The Service addresses on the loopback interface: a `/32` per cluster IP on `lo` makes the
//! host deliver packets for it locally, both from host processes and from pods (whose packets
//! route to the host), so a listener bound to `clusterIP:port` receives them. Managed with
//! iproute2's `ip`, as the node agent manages pod networks.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use tokio::process::Command;

use crate::error::{Error, Result};

const LOOPBACK: &str = "lo";

async fn ip(args: &[&str]) -> Result<Vec<u8>> {
    let joined = args.join(" ");
    let out = Command::new("ip")
        .args(args)
        .output()
        .await
        .map_err(|e| Error::Ip {
            args: joined.clone(),
            message: e.to_string(),
        })?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(Error::Ip {
            args: joined,
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Assigns `addr/32` to `lo`; an address already there is fine.
pub async fn ensure_local_address(addr: Ipv4Addr) -> Result<()> {
    let cidr = format!("{addr}/32");
    match ip(&["addr", "add", &cidr, "dev", LOOPBACK]).await {
        Ok(_) => Ok(()),
        // The wording of "already there" varies with the kernel and iproute2: look instead.
        Err(e) if presence(addr).await == Some(true) => {
            tracing::trace!(%addr, error = %e, "address already on lo");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Removes `addr/32` from `lo`; an address already gone is fine.
pub async fn remove_local_address(addr: Ipv4Addr) -> Result<()> {
    let cidr = format!("{addr}/32");
    match ip(&["addr", "del", &cidr, "dev", LOOPBACK]).await {
        Ok(_) => Ok(()),
        Err(e) if presence(addr).await == Some(false) => {
            tracing::trace!(%addr, error = %e, "address already gone from lo");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Whether `addr/32` is on `lo`; `None` if that cannot be told.
async fn presence(addr: Ipv4Addr) -> Option<bool> {
    local_addresses_in(Ipv4Net::from(addr))
        .await
        .ok()
        .map(|found| found.contains(&addr))
}

/// The `/32` addresses on `lo` that lie in `cidr`.
pub async fn local_addresses_in(cidr: Ipv4Net) -> Result<Vec<Ipv4Addr>> {
    let out = ip(&["-j", "-4", "addr", "show", "dev", LOOPBACK]).await?;
    parse_addresses(&out, cidr)
}

fn parse_addresses(json: &[u8], cidr: Ipv4Net) -> Result<Vec<Ipv4Addr>> {
    let links: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| Error::AddressList(e.to_string()))?;
    let mut found = Vec::new();
    for link in links.as_array().into_iter().flatten() {
        for info in link["addr_info"].as_array().into_iter().flatten() {
            let Some(local) = info["local"]
                .as_str()
                .and_then(|s| s.parse::<Ipv4Addr>().ok())
            else {
                continue;
            };
            if info["prefixlen"].as_u64() == Some(32) && cidr.contains(&local) {
                found.push(local);
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ip_json_output() {
        let json = br#"[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"addr_info":[
            {"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"},
            {"family":"inet","local":"10.96.0.10","prefixlen":32,"scope":"global","label":"lo"},
            {"family":"inet","local":"10.96.0.11","prefixlen":24,"scope":"global","label":"lo"},
            {"family":"inet","local":"10.203.0.1","prefixlen":32,"scope":"global","label":"lo"}]}]"#;
        let got = parse_addresses(json, "10.96.0.0/12".parse().unwrap()).unwrap();
        assert_eq!(got, vec!["10.96.0.10".parse::<Ipv4Addr>().unwrap()]);
        assert!(parse_addresses(b"not json", "10.96.0.0/12".parse().unwrap()).is_err());
    }
}
