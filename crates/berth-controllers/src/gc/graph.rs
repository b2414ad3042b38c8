//! The garbage collector's dependency graph: objects by uid with their ownerReferences, and for
//! each owner the set of its dependents. A port of upstream's `GraphBuilder.processGraphChanges`
//! without I/O: [`Graph::process`] takes one observed change and returns the work it makes
//! (which objects to check for deletion, which owners to orphan), so the rules can be tested.
//!
//! Owners that are referenced but not (yet) observed are "virtual" nodes: placeholders whose
//! existence a worker verifies with a live GET. That is also how dependents of owners deleted
//! while nobody watched (Berth was down) are found: their owner is virtual, the GET says it is
//! gone, and a [`GraphEvent::VerifiedAbsent`] makes its dependents candidates for deletion.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

/// The finalizer that makes an owner wait for its blocking dependents (foreground deletion).
pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
/// The finalizer that makes the garbage collector orphan an owner's dependents.
pub const ORPHAN_FINALIZER: &str = "orphan";

/// The coordinates of an object, as an ownerReference names them plus the namespace.
/// `namespace` is empty for cluster-scoped objects.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectIdentity {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

impl ObjectIdentity {
    /// The identity an ownerReference gives its owner, assuming the owner lives in `namespace`.
    pub fn of_owner(reference: &OwnerReference, namespace: &str) -> Self {
        ObjectIdentity {
            api_version: reference.api_version.clone(),
            kind: reference.kind.clone(),
            namespace: namespace.to_string(),
            name: reference.name.clone(),
            uid: reference.uid.clone(),
        }
    }

    /// Whether `reference` names this object with the same uid, name, kind and apiVersion
    /// (upstream `ownerReferenceMatchesCoordinates`).
    pub fn matches_reference(&self, reference: &OwnerReference) -> bool {
        self.uid == reference.uid
            && self.name == reference.name
            && self.kind == reference.kind
            && self.api_version == reference.api_version
    }

    /// Upstream's `referenceLessThan` order: kind, apiVersion, namespace, name, uid.
    fn order_key(&self) -> (&str, &str, &str, &str, &str) {
        (
            &self.kind,
            &self.api_version,
            &self.namespace,
            &self.name,
            &self.uid,
        )
    }
}

impl std::fmt::Display for ObjectIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}/{}, namespace: {}, name: {}, uid: {}]",
            self.api_version, self.kind, self.namespace, self.name, self.uid
        )
    }
}

/// An object as a metadata watch saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct ObservedObject {
    pub identity: ObjectIdentity,
    pub owners: Vec<OwnerReference>,
    pub being_deleted: bool,
    pub finalizers: Vec<String>,
}

impl ObservedObject {
    fn deletion_state(&self) -> DeletionState {
        let has = |f: &str| self.finalizers.iter().any(|x| x == f);
        DeletionState {
            being_deleted: self.being_deleted,
            orphan: has(ORPHAN_FINALIZER),
            foreground: has(FOREGROUND_FINALIZER),
        }
    }
}

/// A change for the graph.
#[derive(Clone, Debug, PartialEq)]
pub enum GraphEvent {
    /// A watch saw the object added or changed (or listed it).
    Observed(ObservedObject),
    /// A watch saw the object deleted (or a re-list no longer contained it).
    Deleted(ObjectIdentity),
    /// A worker's live GET found no object with these coordinates and uid (upstream's
    /// "virtual delete event").
    VerifiedAbsent(ObjectIdentity),
}

/// Work the graph asks the garbage collector's workers to do, by uid.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Work {
    /// Check the object: verify it exists, and delete it if all its owners are gone (or, for an
    /// owner being deleted in the foreground, finish that once no blocking dependent remains).
    AttemptToDelete(String),
    /// Remove the object's uid from its dependents' ownerReferences, then its `orphan`
    /// finalizer.
    AttemptToOrphan(String),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct DeletionState {
    being_deleted: bool,
    orphan: bool,
    foreground: bool,
}

#[derive(Clone, Debug)]
struct Node {
    identity: ObjectIdentity,
    /// False for a virtual node: referenced as an owner but not seen by a watch.
    observed: bool,
    owners: Vec<OwnerReference>,
    dependents: BTreeSet<String>,
    being_deleted: bool,
    deleting_dependents: bool,
    /// The deletion state last observed, to detect transitions (upstream compares the
    /// informer's old and new object); `None` until observed.
    last_state: Option<DeletionState>,
}

/// A copy of a node's bookkeeping for a worker.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeView {
    pub identity: ObjectIdentity,
    pub observed: bool,
    pub owners: Vec<OwnerReference>,
    pub being_deleted: bool,
    pub deleting_dependents: bool,
    pub dependents: Vec<String>,
}

/// Owners known not to exist, so that many dependents of one deleted owner do not each need a
/// GET (upstream `absentOwnerCache`, a 500-entry LRU). Keys include the uid, and a uid never
/// comes back, so an entry never goes stale; eviction only bounds memory.
#[derive(Debug, Default)]
struct AbsentOwnerCache {
    set: HashSet<ObjectIdentity>,
    order: VecDeque<ObjectIdentity>,
}

const ABSENT_OWNER_CACHE_SIZE: usize = 500;

impl AbsentOwnerCache {
    fn insert(&mut self, identity: ObjectIdentity) {
        if self.set.insert(identity.clone()) {
            self.order.push_back(identity);
            while self.order.len() > ABSENT_OWNER_CACHE_SIZE {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

/// The dependency graph.
#[derive(Debug, Default)]
pub struct Graph {
    nodes: HashMap<String, Node>,
    absent_owners: AbsentOwnerCache,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn contains(&self, uid: &str) -> bool {
        self.nodes.contains_key(uid)
    }

    /// A copy of the node with this uid.
    pub fn node(&self, uid: &str) -> Option<NodeView> {
        self.nodes.get(uid).map(|n| NodeView {
            identity: n.identity.clone(),
            observed: n.observed,
            owners: n.owners.clone(),
            being_deleted: n.being_deleted,
            deleting_dependents: n.deleting_dependents,
            dependents: n.dependents.iter().cloned().collect(),
        })
    }

    /// The node's dependents.
    pub fn dependents(&self, uid: &str) -> Vec<NodeView> {
        let Some(n) = self.nodes.get(uid) else {
            return Vec::new();
        };
        n.dependents.iter().filter_map(|d| self.node(d)).collect()
    }

    /// The node's dependents whose ownerReference to it has `blockOwnerDeletion: true`: those a
    /// foreground deletion waits for.
    pub fn blocking_dependents(&self, uid: &str) -> Vec<NodeView> {
        self.dependents(uid)
            .into_iter()
            .filter(|d| {
                d.owners
                    .iter()
                    .any(|r| r.uid == uid && r.block_owner_deletion == Some(true))
            })
            .collect()
    }

    /// Whether the owner with these coordinates is known to be gone.
    pub fn is_known_absent(&self, identity: &ObjectIdentity) -> bool {
        self.absent_owners.set.contains(identity)
    }

    pub fn mark_absent(&mut self, identity: ObjectIdentity) {
        self.absent_owners.insert(identity);
    }

    /// Applies one change and returns the work it makes.
    pub fn process(&mut self, event: GraphEvent) -> Vec<Work> {
        let mut work = Vec::new();
        match event {
            GraphEvent::Observed(object) => self.observe(object, &mut work),
            GraphEvent::Deleted(identity) => self.delete(identity, false, &mut work),
            GraphEvent::VerifiedAbsent(identity) => self.delete(identity, true, &mut work),
        }
        work
    }

    fn observe(&mut self, object: ObservedObject, work: &mut Vec<Work>) {
        let uid = object.identity.uid.clone();
        let state = object.deletion_state();

        // A virtual node is now observed: if dependents named it by other coordinates, they
        // may reference something that does not exist, so have them checked.
        let replace_virtual = match self.nodes.get(&uid) {
            Some(n) if !n.observed => Some(n.identity != object.identity),
            _ => None,
        };
        if let Some(identity_differs) = replace_virtual {
            if identity_differs {
                let (_, nonmatching) = self.partition_dependents(&uid, &object.identity);
                for dep in nonmatching {
                    if let Some(d) = self.nodes.get(&dep)
                        && !object.identity.namespace.is_empty()
                        && d.identity.namespace != object.identity.namespace
                    {
                        tracing::info!(
                            item = %d.identity, owner = %object.identity,
                            "item references an owner but does not match namespaces"
                        );
                    }
                    work.push(Work::AttemptToDelete(dep));
                }
            }
            if let Some(n) = self.nodes.get_mut(&uid) {
                if identity_differs {
                    n.identity = object.identity.clone();
                }
                n.observed = true;
            }
        }

        let Some(existing) = self.nodes.get_mut(&uid) else {
            self.nodes.insert(
                uid.clone(),
                Node {
                    identity: object.identity.clone(),
                    observed: true,
                    owners: object.owners.clone(),
                    dependents: BTreeSet::new(),
                    being_deleted: object.being_deleted,
                    deleting_dependents: state.being_deleted && state.foreground,
                    last_state: None,
                },
            );
            self.add_dependent_to_owners(&uid, &object.owners, work);
            self.process_transitions(&uid, None, state, work);
            return;
        };

        // The same object seen through another version of its resource.
        if existing.identity.api_version != object.identity.api_version
            || existing.identity.kind != object.identity.kind
        {
            existing.identity.api_version = object.identity.api_version.clone();
            existing.identity.kind = object.identity.kind.clone();
        }
        if object.being_deleted {
            existing.being_deleted = true;
        }
        let old_state = existing.last_state;
        let (added, removed, changed) = references_diffs(&existing.owners, &object.owners);
        if !added.is_empty() || !removed.is_empty() || !changed.is_empty() {
            existing.owners = object.owners.clone();
            // An owner waiting for its blocking dependents may be unblocked now.
            self.add_unblocked_owners(&removed, &changed, work);
            self.add_dependent_to_owners(&uid, &added, work);
            self.remove_dependent_from_owners(&uid, &removed);
        }
        self.process_transitions(&uid, old_state, state, work);
    }

    fn process_transitions(
        &mut self,
        uid: &str,
        old: Option<DeletionState>,
        new: DeletionState,
        work: &mut Vec<Work>,
    ) {
        let old = old.unwrap_or_default();
        let Some(node) = self.nodes.get_mut(uid) else {
            return;
        };
        node.last_state = Some(new);
        if new.being_deleted && new.orphan && !(old.being_deleted && old.orphan) {
            work.push(Work::AttemptToOrphan(uid.to_string()));
            return;
        }
        if new.being_deleted && new.foreground && !(old.being_deleted && old.foreground) {
            // Set here too: a node first added as virtual did not get the flag on creation.
            node.deleting_dependents = true;
            for dep in &node.dependents {
                work.push(Work::AttemptToDelete(dep.clone()));
            }
            work.push(Work::AttemptToDelete(uid.to_string()));
        }
    }

    /// Records `uid` as a dependent of each of `owners`, creating virtual nodes for owners not
    /// in the graph (and asking for them to be verified).
    fn add_dependent_to_owners(
        &mut self,
        uid: &str,
        owners: &[OwnerReference],
        work: &mut Vec<Work>,
    ) {
        let Some(dependent) = self.nodes.get(uid).map(|n| n.identity.clone()) else {
            return;
        };
        let mut potentially_invalid = false;
        for owner in owners {
            match self.nodes.get_mut(&owner.uid) {
                None => {
                    let mut dependents = BTreeSet::new();
                    dependents.insert(uid.to_string());
                    self.nodes.insert(
                        owner.uid.clone(),
                        Node {
                            identity: ObjectIdentity::of_owner(owner, &dependent.namespace),
                            observed: false,
                            owners: Vec::new(),
                            dependents,
                            being_deleted: false,
                            deleting_dependents: false,
                            last_state: None,
                        },
                    );
                    work.push(Work::AttemptToDelete(owner.uid.clone()));
                }
                Some(owner_node) => {
                    owner_node.dependents.insert(uid.to_string());
                    if potentially_invalid {
                        continue;
                    }
                    let owner_namespaced = !owner_node.identity.namespace.is_empty();
                    if owner_namespaced && owner_node.identity.namespace != dependent.namespace {
                        if owner_node.observed {
                            tracing::info!(
                                item = %dependent, owner = %owner_node.identity,
                                "item references an owner but does not match namespaces"
                            );
                        }
                        potentially_invalid = true;
                    } else if !owner_node.identity.matches_reference(owner) {
                        potentially_invalid = true;
                    } else if !owner_namespaced
                        && owner_node.identity.namespace != dependent.namespace
                        && !owner_node.observed
                    {
                        // A virtual cluster-scoped owner referenced from a namespaced
                        // dependent: it may really be a namespaced owner that is missing.
                        potentially_invalid = true;
                    }
                }
            }
        }
        if potentially_invalid {
            work.push(Work::AttemptToDelete(uid.to_string()));
        }
    }

    fn remove_dependent_from_owners(&mut self, uid: &str, owners: &[OwnerReference]) {
        for owner in owners {
            if let Some(o) = self.nodes.get_mut(&owner.uid) {
                o.dependents.remove(uid);
            }
        }
    }

    /// Owners whose blocking reference was removed or made non-blocking get checked again.
    fn add_unblocked_owners(
        &self,
        removed: &[OwnerReference],
        changed: &[(OwnerReference, OwnerReference)],
        work: &mut Vec<Work>,
    ) {
        let blocks = |r: &OwnerReference| r.block_owner_deletion == Some(true);
        for r in removed {
            if blocks(r) && self.nodes.contains_key(&r.uid) {
                work.push(Work::AttemptToDelete(r.uid.clone()));
            }
        }
        for (old, new) in changed {
            if blocks(old) && !blocks(new) && self.nodes.contains_key(&new.uid) {
                work.push(Work::AttemptToDelete(new.uid.clone()));
            }
        }
    }

    fn delete(&mut self, identity: ObjectIdentity, verified_absent: bool, work: &mut Vec<Work>) {
        let uid = identity.uid.clone();
        let Some(existing) = self.nodes.get(&uid) else {
            return;
        };
        let mut remove = true;
        if verified_absent {
            if !existing.observed {
                // A virtual node: we are not sure of its coordinates. If some dependents name
                // it differently, only the ones naming the verified-absent coordinates are
                // affected, and the node lives on under another identity to verify.
                let (matching, nonmatching) = self.partition_dependents(&uid, &identity);
                if !nonmatching.is_empty() {
                    remove = false;
                    if !matching.is_empty() {
                        self.absent_owners.insert(identity.clone());
                        work.extend(matching.into_iter().map(Work::AttemptToDelete));
                    }
                    if existing.identity == identity
                        && let Some(replacement) =
                            self.alternate_owner_identity(&nonmatching, &identity)
                        && let Some(n) = self.nodes.get_mut(&uid)
                    {
                        n.identity = replacement;
                        work.push(Work::AttemptToDelete(uid.clone()));
                    }
                }
            } else if existing.identity != identity {
                // The observed object exists under other coordinates: only dependents naming
                // the absent coordinates are affected.
                remove = false;
                let (matching, _) = self.partition_dependents(&uid, &identity);
                if !matching.is_empty() {
                    self.absent_owners.insert(identity.clone());
                    work.extend(matching.into_iter().map(Work::AttemptToDelete));
                }
            }
        }
        if !remove {
            return;
        }
        let Some(node) = self.nodes.remove(&uid) else {
            return;
        };
        self.remove_dependent_from_owners(&uid, &node.owners);
        if !node.dependents.is_empty() {
            self.absent_owners.insert(identity);
        }
        work.extend(node.dependents.iter().cloned().map(Work::AttemptToDelete));
        // An owner deleting its dependents in the foreground may be done now.
        for owner in &node.owners {
            if self
                .nodes
                .get(&owner.uid)
                .is_some_and(|o| o.deleting_dependents)
            {
                work.push(Work::AttemptToDelete(owner.uid.clone()));
            }
        }
    }

    /// Splits the dependents of `owner_uid` into those whose reference matches `identity` and
    /// those that name the uid with other coordinates (a dependent can be in both).
    fn partition_dependents(
        &self,
        owner_uid: &str,
        identity: &ObjectIdentity,
    ) -> (Vec<String>, Vec<String>) {
        let mut matching = Vec::new();
        let mut nonmatching = Vec::new();
        let Some(owner) = self.nodes.get(owner_uid) else {
            return (matching, nonmatching);
        };
        let owner_namespaced = !identity.namespace.is_empty();
        for dep_uid in &owner.dependents {
            let Some(dep) = self.nodes.get(dep_uid) else {
                continue;
            };
            let mut found_match = false;
            let mut found_mismatch = false;
            if owner_namespaced && identity.namespace != dep.identity.namespace {
                found_mismatch = true;
            } else {
                for r in dep.owners.iter().filter(|r| r.uid == identity.uid) {
                    if identity.matches_reference(r) {
                        found_match = true;
                    } else {
                        found_mismatch = true;
                    }
                }
            }
            if found_match {
                matching.push(dep_uid.clone());
            }
            if found_mismatch {
                nonmatching.push(dep_uid.clone());
            }
        }
        (matching, nonmatching)
    }

    /// Another identity the dependents give the verified-absent owner uid: the first after it
    /// in upstream's order, else the first (upstream `getAlternateOwnerIdentity`).
    fn alternate_owner_identity(
        &self,
        deps: &[String],
        absent: &ObjectIdentity,
    ) -> Option<ObjectIdentity> {
        let absent_cluster_scoped = absent.namespace.is_empty();
        let mut seen: HashSet<ObjectIdentity> = HashSet::new();
        seen.insert(absent.clone());
        let mut first: Option<ObjectIdentity> = None;
        let mut first_following: Option<ObjectIdentity> = None;
        for dep in deps.iter().filter_map(|d| self.nodes.get(d)) {
            for r in dep.owners.iter().filter(|r| r.uid == absent.uid) {
                if absent.matches_reference(r)
                    && (absent_cluster_scoped || absent.namespace == dep.identity.namespace)
                {
                    continue;
                }
                let mut candidate = ObjectIdentity::of_owner(r, &dep.identity.namespace);
                if absent_cluster_scoped
                    && candidate.api_version == absent.api_version
                    && candidate.kind == absent.kind
                {
                    // This apiVersion/kind is known to be cluster-scoped.
                    candidate.namespace.clear();
                }
                if !seen.insert(candidate.clone()) {
                    continue;
                }
                if first
                    .as_ref()
                    .is_none_or(|f| candidate.order_key() < f.order_key())
                {
                    first = Some(candidate.clone());
                }
                if absent.order_key() < candidate.order_key()
                    && first_following
                        .as_ref()
                        .is_none_or(|f| candidate.order_key() < f.order_key())
                {
                    first_following = Some(candidate);
                }
            }
        }
        first_following.or(first)
    }
}

/// Owner references added, removed and changed (old, new) between two lists, matched by uid.
fn references_diffs(
    old: &[OwnerReference],
    new: &[OwnerReference],
) -> (
    Vec<OwnerReference>,
    Vec<OwnerReference>,
    Vec<(OwnerReference, OwnerReference)>,
) {
    let mut old_by_uid: HashMap<&str, &OwnerReference> =
        old.iter().map(|r| (r.uid.as_str(), r)).collect();
    let mut added = Vec::new();
    let mut changed = Vec::new();
    for r in new {
        match old_by_uid.remove(r.uid.as_str()) {
            Some(o) if o != r => changed.push((o.clone(), r.clone())),
            Some(_) => {}
            None => added.push(r.clone()),
        }
    }
    let removed = old
        .iter()
        .filter(|r| old_by_uid.contains_key(r.uid.as_str()))
        .cloned()
        .collect();
    (added, removed, changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(kind: &str, ns: &str, name: &str, uid: &str) -> ObjectIdentity {
        ObjectIdentity {
            api_version: "v1".into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
            uid: uid.into(),
        }
    }

    fn owner_ref(kind: &str, name: &str, uid: &str, block: bool) -> OwnerReference {
        OwnerReference {
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: uid.into(),
            block_owner_deletion: block.then_some(true),
            controller: None,
        }
    }

    fn observed(identity: ObjectIdentity, owners: Vec<OwnerReference>) -> GraphEvent {
        GraphEvent::Observed(ObservedObject {
            identity,
            owners,
            being_deleted: false,
            finalizers: Vec::new(),
        })
    }

    fn deleting(
        identity: ObjectIdentity,
        owners: Vec<OwnerReference>,
        finalizer: &str,
    ) -> GraphEvent {
        GraphEvent::Observed(ObservedObject {
            identity,
            owners,
            being_deleted: true,
            finalizers: vec![finalizer.to_string()],
        })
    }

    fn del(uid: &str) -> Work {
        Work::AttemptToDelete(uid.into())
    }

    #[test]
    fn unknown_owner_becomes_a_virtual_node_to_verify() {
        let mut g = Graph::new();
        let work = g.process(observed(
            id("ConfigMap", "ns", "child", "c"),
            vec![owner_ref("ConfigMap", "parent", "p", false)],
        ));
        assert_eq!(work, vec![del("p")]);
        let owner = g.node("p").expect("virtual owner");
        assert!(!owner.observed);
        assert_eq!(owner.identity, id("ConfigMap", "ns", "parent", "p"));
        assert_eq!(owner.dependents, vec!["c".to_string()]);
    }

    #[test]
    fn owner_seen_first_then_dependent_needs_no_work() {
        let mut g = Graph::new();
        assert!(
            g.process(observed(id("ConfigMap", "ns", "parent", "p"), vec![]))
                .is_empty()
        );
        let work = g.process(observed(
            id("ConfigMap", "ns", "child", "c"),
            vec![owner_ref("ConfigMap", "parent", "p", false)],
        ));
        assert!(work.is_empty(), "{work:?}");
        assert_eq!(
            g.node("p").map(|n| n.dependents),
            Some(vec!["c".to_string()])
        );
    }

    #[test]
    fn deleting_an_owner_enqueues_its_dependents_and_remembers_it_absent() {
        let mut g = Graph::new();
        g.process(observed(id("ConfigMap", "ns", "parent", "p"), vec![]));
        g.process(observed(
            id("ConfigMap", "ns", "a", "a"),
            vec![owner_ref("ConfigMap", "parent", "p", false)],
        ));
        g.process(observed(
            id("ConfigMap", "ns", "b", "b"),
            vec![owner_ref("ConfigMap", "parent", "p", false)],
        ));
        let work = g.process(GraphEvent::Deleted(id("ConfigMap", "ns", "parent", "p")));
        assert_eq!(work, vec![del("a"), del("b")]);
        assert!(!g.contains("p"));
        assert!(g.is_known_absent(&id("ConfigMap", "ns", "parent", "p")));
    }

    #[test]
    fn verified_absent_virtual_owner_releases_dependents() {
        // Start-up after the owner was deleted while nobody watched.
        let mut g = Graph::new();
        g.process(observed(
            id("ConfigMap", "ns", "child", "c"),
            vec![owner_ref("ConfigMap", "parent", "p", false)],
        ));
        let work = g.process(GraphEvent::VerifiedAbsent(id(
            "ConfigMap",
            "ns",
            "parent",
            "p",
        )));
        assert_eq!(work, vec![del("c")]);
        assert!(!g.contains("p"));
    }

    #[test]
    fn virtual_owner_named_differently_by_dependents_is_retried_under_the_other_identity() {
        let mut g = Graph::new();
        g.process(observed(
            id("ConfigMap", "ns", "a", "a"),
            vec![owner_ref("ConfigMap", "parent", "p", false)],
        ));
        // Another dependent names the same uid as a Secret.
        let work = g.process(observed(
            id("ConfigMap", "ns", "b", "b"),
            vec![owner_ref("Secret", "parent", "p", false)],
        ));
        assert_eq!(
            work,
            vec![del("b")],
            "mismatching coordinates make the dependent suspect"
        );
        let work = g.process(GraphEvent::VerifiedAbsent(id(
            "ConfigMap",
            "ns",
            "parent",
            "p",
        )));
        assert_eq!(work, vec![del("a"), del("p")]);
        let node = g.node("p").expect("kept");
        assert_eq!(node.identity.kind, "Secret");
        assert!(g.is_known_absent(&id("ConfigMap", "ns", "parent", "p")));
    }

    #[test]
    fn verified_absent_with_other_coordinates_keeps_an_observed_owner() {
        let mut g = Graph::new();
        g.process(observed(id("ConfigMap", "ns", "parent", "p"), vec![]));
        g.process(observed(
            id("ConfigMap", "ns", "a", "a"),
            vec![owner_ref("Secret", "parent", "p", false)],
        ));
        let work = g.process(GraphEvent::VerifiedAbsent(id(
            "Secret", "ns", "parent", "p",
        )));
        assert_eq!(work, vec![del("a")]);
        assert!(g.node("p").is_some_and(|n| n.observed));
    }

    #[test]
    fn observing_a_virtual_owner_under_other_coordinates_checks_dependents() {
        let mut g = Graph::new();
        g.process(observed(
            id("ConfigMap", "ns", "a", "a"),
            vec![owner_ref("Secret", "parent", "p", false)],
        ));
        let work = g.process(observed(id("ConfigMap", "ns", "parent", "p"), vec![]));
        assert_eq!(work, vec![del("a")]);
        let node = g.node("p").expect("owner");
        assert!(node.observed);
        assert_eq!(node.identity.kind, "ConfigMap");
    }

    #[test]
    fn namespaced_owner_in_another_namespace_is_suspect() {
        let mut g = Graph::new();
        g.process(observed(id("ConfigMap", "other", "parent", "p"), vec![]));
        let work = g.process(observed(
            id("ConfigMap", "ns", "child", "c"),
            vec![owner_ref("ConfigMap", "parent", "p", false)],
        ));
        assert_eq!(work, vec![del("c")]);
    }

    #[test]
    fn cluster_scoped_owner_of_namespaced_dependent_is_fine_once_observed() {
        let mut g = Graph::new();
        g.process(observed(id("Node", "", "n1", "n"), vec![]));
        let work = g.process(observed(
            id("ConfigMap", "ns", "child", "c"),
            vec![owner_ref("Node", "n1", "n", false)],
        ));
        assert!(work.is_empty(), "{work:?}");
    }

    #[test]
    fn orphan_transition_fires_once() {
        let mut g = Graph::new();
        g.process(observed(id("ConfigMap", "ns", "parent", "p"), vec![]));
        g.process(observed(
            id("ConfigMap", "ns", "child", "c"),
            vec![owner_ref("ConfigMap", "parent", "p", false)],
        ));
        let work = g.process(deleting(
            id("ConfigMap", "ns", "parent", "p"),
            vec![],
            ORPHAN_FINALIZER,
        ));
        assert_eq!(work, vec![Work::AttemptToOrphan("p".into())]);
        let again = g.process(deleting(
            id("ConfigMap", "ns", "parent", "p"),
            vec![],
            ORPHAN_FINALIZER,
        ));
        assert!(again.is_empty());
    }

    #[test]
    fn foreground_transition_marks_owner_and_enqueues_dependents_then_owner() {
        let mut g = Graph::new();
        g.process(observed(id("ConfigMap", "ns", "parent", "p"), vec![]));
        g.process(observed(
            id("ConfigMap", "ns", "a", "a"),
            vec![owner_ref("ConfigMap", "parent", "p", true)],
        ));
        g.process(observed(
            id("ConfigMap", "ns", "b", "b"),
            vec![owner_ref("ConfigMap", "parent", "p", false)],
        ));
        let work = g.process(deleting(
            id("ConfigMap", "ns", "parent", "p"),
            vec![],
            FOREGROUND_FINALIZER,
        ));
        assert_eq!(work, vec![del("a"), del("b"), del("p")]);
        assert!(
            g.node("p")
                .is_some_and(|n| n.deleting_dependents && n.being_deleted)
        );
        let blocking: Vec<String> = g
            .blocking_dependents("p")
            .into_iter()
            .map(|d| d.identity.uid)
            .collect();
        assert_eq!(blocking, vec!["a".to_string()]);

        // The blocking dependent goes away: the owner is checked again.
        let work = g.process(GraphEvent::Deleted(id("ConfigMap", "ns", "a", "a")));
        assert_eq!(work, vec![del("p")]);
        assert!(g.blocking_dependents("p").is_empty());
    }

    #[test]
    fn first_sight_of_an_owner_already_deleting_in_foreground_counts_as_transition() {
        let mut g = Graph::new();
        g.process(observed(
            id("ConfigMap", "ns", "a", "a"),
            vec![owner_ref("ConfigMap", "parent", "p", true)],
        ));
        let work = g.process(deleting(
            id("ConfigMap", "ns", "parent", "p"),
            vec![],
            FOREGROUND_FINALIZER,
        ));
        assert_eq!(work, vec![del("a"), del("p")]);
    }

    #[test]
    fn removing_a_blocking_reference_rechecks_the_owner() {
        let mut g = Graph::new();
        g.process(observed(id("ConfigMap", "ns", "parent", "p"), vec![]));
        g.process(observed(
            id("ConfigMap", "ns", "a", "a"),
            vec![owner_ref("ConfigMap", "parent", "p", true)],
        ));
        let work = g.process(observed(
            id("ConfigMap", "ns", "a", "a"),
            vec![owner_ref("ConfigMap", "parent", "p", false)],
        ));
        assert_eq!(work, vec![del("p")]);
        let work = g.process(observed(id("ConfigMap", "ns", "a", "a"), vec![]));
        assert!(work.is_empty(), "non-blocking reference removed: {work:?}");
        assert!(g.dependents("p").is_empty());
    }

    #[test]
    fn adding_an_owner_links_it() {
        let mut g = Graph::new();
        g.process(observed(id("ConfigMap", "ns", "a", "a"), vec![]));
        g.process(observed(id("ConfigMap", "ns", "p1", "p1"), vec![]));
        let work = g.process(observed(
            id("ConfigMap", "ns", "a", "a"),
            vec![
                owner_ref("ConfigMap", "p1", "p1", false),
                owner_ref("ConfigMap", "p2", "p2", false),
            ],
        ));
        assert_eq!(work, vec![del("p2")], "the unknown owner is verified");
        assert_eq!(
            g.node("p1").map(|n| n.dependents),
            Some(vec!["a".to_string()])
        );
        assert_eq!(
            g.node("p2").map(|n| n.dependents),
            Some(vec!["a".to_string()])
        );
    }

    #[test]
    fn deleting_a_dependent_unlinks_it_and_wakes_a_foreground_owner() {
        let mut g = Graph::new();
        g.process(observed(
            id("ConfigMap", "ns", "a", "a"),
            vec![owner_ref("ConfigMap", "parent", "p", false)],
        ));
        g.process(deleting(
            id("ConfigMap", "ns", "parent", "p"),
            vec![],
            FOREGROUND_FINALIZER,
        ));
        let work = g.process(GraphEvent::Deleted(id("ConfigMap", "ns", "a", "a")));
        assert_eq!(work, vec![del("p")]);
        assert!(g.dependents("p").is_empty());
        assert!(!g.contains("a"));
    }

    #[test]
    fn kind_change_updates_identity() {
        let mut g = Graph::new();
        g.process(observed(id("Widget", "ns", "w", "w"), vec![]));
        let mut v2 = id("Widget", "ns", "w", "w");
        v2.api_version = "example.com/v2".into();
        g.process(observed(v2.clone(), vec![]));
        assert_eq!(g.node("w").map(|n| n.identity), Some(v2));
    }

    #[test]
    fn deletions_of_unknown_objects_are_ignored() {
        let mut g = Graph::new();
        assert!(
            g.process(GraphEvent::Deleted(id("ConfigMap", "ns", "x", "x")))
                .is_empty()
        );
        assert!(
            g.process(GraphEvent::VerifiedAbsent(id("ConfigMap", "ns", "x", "x")))
                .is_empty()
        );
    }

    #[test]
    fn references_diffs_by_uid() {
        let a = owner_ref("ConfigMap", "a", "a", false);
        let b = owner_ref("ConfigMap", "b", "b", true);
        let b2 = owner_ref("ConfigMap", "b", "b", false);
        let c = owner_ref("ConfigMap", "c", "c", false);
        let (added, removed, changed) =
            references_diffs(&[a.clone(), b.clone()], &[b2.clone(), c.clone()]);
        assert_eq!(added, vec![c]);
        assert_eq!(removed, vec![a]);
        assert_eq!(changed, vec![(b, b2)]);
    }

    #[test]
    fn absent_owner_cache_is_bounded() {
        let mut g = Graph::new();
        for i in 0..(ABSENT_OWNER_CACHE_SIZE + 10) {
            g.mark_absent(id("ConfigMap", "ns", "x", &i.to_string()));
        }
        assert!(!g.is_known_absent(&id("ConfigMap", "ns", "x", "0")));
        assert!(g.is_known_absent(&id(
            "ConfigMap",
            "ns",
            "x",
            &(ABSENT_OWNER_CACHE_SIZE + 9).to_string()
        )));
    }
}
