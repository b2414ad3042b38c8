//! Adoption and release of dependents (upstream `ControllerRefManager.ClaimObjects`): a
//! controller takes the orphans its selector matches and lets go of the ones it owns that no
//! longer match.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::error::{Error, Result};
use crate::informer::Kind;
use crate::meta::{Selector, controller_ref};

pub struct Claimer<'a, K: Kind> {
    pub api: Api<K>,
    pub owner: OwnerReference,
    /// The owner is being deleted: adopt nothing, release nothing.
    pub owner_deleting: bool,
    pub selector: &'a Selector,
}

impl<K: Kind> Claimer<'_, K> {
    /// The candidates owned after adoption and release.
    pub async fn claim(&self, candidates: Vec<Arc<K>>) -> Result<Vec<Arc<K>>> {
        let mut claimed = Vec::new();
        let mut errors = Vec::new();
        for obj in candidates {
            let meta = obj.meta();
            let matches = self.selector.matches(meta.labels.as_ref());
            match controller_ref(meta) {
                Some(r) if r.uid == self.owner.uid => {
                    if matches || self.owner_deleting {
                        claimed.push(obj);
                    } else if let Err(e) = self.release(&obj).await
                        && !e.is_not_found()
                    {
                        errors.push(e.to_string());
                    }
                }
                Some(_) => {}
                None => {
                    if self.owner_deleting || !matches || meta.deletion_timestamp.is_some() {
                        continue;
                    }
                    match self.adopt(&obj).await {
                        Ok(adopted) => claimed.push(Arc::new(adopted)),
                        Err(e) if e.is_not_found() => {}
                        Err(e) => errors.push(e.to_string()),
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(claimed)
        } else {
            Err(Error::Aggregate(errors))
        }
    }

    async fn adopt(&self, obj: &K) -> Result<K> {
        let meta = obj.meta();
        let mut refs = meta.owner_references.clone().unwrap_or_default();
        refs.retain(|r| r.uid != self.owner.uid);
        refs.push(self.owner.clone());
        let patch = json!({"metadata": {"ownerReferences": refs, "uid": meta.uid}});
        let name = meta.name.clone().unwrap_or_default();
        Ok(self
            .api
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?)
    }

    async fn release(&self, obj: &K) -> Result<()> {
        let meta = obj.meta();
        let refs: Vec<&OwnerReference> = meta
            .owner_references
            .iter()
            .flatten()
            .filter(|r| r.uid != self.owner.uid)
            .collect();
        let patch = json!({"metadata": {"ownerReferences": refs, "uid": meta.uid}});
        let name = meta.name.clone().unwrap_or_default();
        self.api
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        Ok(())
    }
}
