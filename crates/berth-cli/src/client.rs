//! kubectl-like client flags and the connection they make.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::CliError;

/// `--kubeconfig`, `--context`, `-n/--namespace`, as kubectl takes them.
#[derive(clap::Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace (default: the context's namespace, else "default").
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
}

/// A client, the namespace commands use when `-n` is not given, and who is deploying.
#[derive(Clone)]
pub struct Connection {
    pub client: kube::Client,
    pub default_namespace: String,
    /// `$USER`, else the kubeconfig user of the context.
    pub author: Option<String>,
}

impl Connection {
    /// A connection over an existing client (tests, the lead's `berth demo`). The author is
    /// `$USER`.
    pub fn new(client: kube::Client, default_namespace: impl Into<String>) -> Connection {
        Connection {
            client,
            default_namespace: default_namespace.into(),
            author: user_from_env(),
        }
    }

    /// Connects as kubectl would with these flags.
    pub async fn connect(args: &ClientArgs) -> Result<Connection, CliError> {
        let kubeconfig =
            match &args.kubeconfig {
                Some(path) => Some(Kubeconfig::read_from(path).map_err(|e| {
                    CliError::Config(format!("cannot read {}: {e}", path.display()))
                })?),
                None => Kubeconfig::read().ok(),
            };
        let Some(kubeconfig) = kubeconfig else {
            // No kubeconfig at all: in a pod, the service account (as kubectl does).
            if args.context.is_some() {
                return Err(CliError::Config(
                    "--context given but no kubeconfig found ($KUBECONFIG, ~/.kube/config)"
                        .to_string(),
                ));
            }
            let config = kube::Config::incluster().map_err(|e| {
                CliError::Config(format!(
                    "no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not in a cluster: {e}"
                ))
            })?;
            let default_namespace = config.default_namespace.clone();
            let client = kube::Client::try_from(config).map_err(CliError::Kube)?;
            return Ok(Connection {
                client,
                default_namespace,
                author: user_from_env(),
            });
        };
        let kubeconfig_user = context_user(&kubeconfig, args.context.as_deref());
        let options = KubeConfigOptions {
            context: args.context.clone(),
            cluster: None,
            user: None,
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| CliError::Config(e.to_string()))?;
        let default_namespace = config.default_namespace.clone();
        let client = kube::Client::try_from(config).map_err(CliError::Kube)?;
        Ok(Connection {
            client,
            default_namespace,
            author: user_from_env().or(kubeconfig_user),
        })
    }

    /// `-n` if given, else the default namespace.
    pub fn namespace(&self, args: &ClientArgs) -> String {
        args.namespace
            .clone()
            .unwrap_or_else(|| self.default_namespace.clone())
    }
}

fn user_from_env() -> Option<String> {
    std::env::var("USER").ok().filter(|u| !u.is_empty())
}

/// The user name of the chosen (or current) context.
fn context_user(kubeconfig: &Kubeconfig, context: Option<&str>) -> Option<String> {
    let name = context.or(kubeconfig.current_context.as_deref())?;
    kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == name)?
        .context
        .as_ref()?
        .user
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_user_follows_the_chosen_context() {
        let kubeconfig: Kubeconfig = serde_saphyr::from_str(
            "apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts:\n\
             - name: a\n  context:\n    cluster: c\n    user: alice\n\
             - name: b\n  context:\n    cluster: c\n    user: bob\n",
        )
        .expect("kubeconfig");
        assert_eq!(context_user(&kubeconfig, None).as_deref(), Some("alice"));
        assert_eq!(context_user(&kubeconfig, Some("b")).as_deref(), Some("bob"));
        assert_eq!(context_user(&kubeconfig, Some("zzz")), None);
    }
}
