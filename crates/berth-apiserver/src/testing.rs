//! An in-process API server over a temporary SQLite store, for other crates' tests: controllers,
//! the scheduler and node agents run against it through [`kube::Client`] without a socket.

use std::sync::Arc;

use berth_store::{SqliteStore, SqliteStoreOptions, Store};

use crate::{ApiServer, pki};

/// A running in-process API server. Dropping it closes the store and removes its directory.
pub struct TestCluster {
    pub server: Arc<ApiServer>,
    /// A client acting as the controller manager (member of `system:masters`).
    pub client: kube::Client,
    store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

impl TestCluster {
    /// Starts a bootstrapped server (default namespaces, the `kubernetes` Service), with the
    /// ServiceAccount admission plugin off.
    pub async fn start() -> Result<TestCluster, Box<dyn std::error::Error + Send + Sync>> {
        let dir = tempfile::tempdir()?;
        let store = SqliteStore::open(SqliteStoreOptions::new(dir.path().join("state.db")))?;
        let creds =
            pki::load_or_create(dir.path(), "127.0.0.1:6443".parse()?, [10, 96, 0, 1].into())?;
        let store_dyn: Arc<dyn Store> = store.clone();
        let server = ApiServer::new(store_dyn, &creds, "127.0.0.1:6443".into(), "10.96.0.0/12")?;
        server.bootstrap().await?;
        // No controllers run here to publish ServiceAccounts and `kube-root-ca.crt`.
        server.disable_service_account_admission();
        let client = kube::Client::new(server.clone().in_process_service(), "default");
        Ok(TestCluster {
            server,
            client,
            store,
            _dir: dir,
        })
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.server.begin_shutdown();
        self.store.close();
    }
}
