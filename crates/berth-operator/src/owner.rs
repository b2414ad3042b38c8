//! The App or CronApp being reconciled, as the owner of what the operator writes.

use berth_spec::meta::owner_value;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::{Resource, ResourceExt};

use crate::OperatorError;

/// Identity of an App/CronApp: what goes into ownerReferences and the `berth.dev/owner` label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub api_version: String,
    /// `App` or `CronApp`.
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    pub uid: String,
}

impl Owner {
    pub fn of<K>(object: &K, kind: &'static str) -> Result<Owner, OperatorError>
    where
        K: Resource<DynamicType = ()>,
    {
        let name = object.name_any();
        match (object.namespace(), object.uid()) {
            (Some(namespace), Some(uid)) => Ok(Owner {
                api_version: K::api_version(&()).into_owned(),
                kind,
                name,
                namespace,
                uid,
            }),
            _ => Err(OperatorError::IncompleteOwner { kind, name }),
        }
    }

    /// `App.web`: the `berth.dev/owner` label value.
    pub fn label_value(&self) -> String {
        owner_value(self.kind, &self.name)
    }

    /// `berth.dev/owner=App.web`.
    pub fn selector(&self) -> String {
        format!("{}={}", berth_spec::meta::LABEL_OWNER, self.label_value())
    }

    /// A controller reference, so the garbage collector deletes what the App owns with it.
    pub fn reference(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.api_version.clone(),
            kind: self.kind.to_string(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}
