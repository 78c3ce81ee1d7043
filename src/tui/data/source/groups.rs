//! The Findings view's groups: a filter's findings as light keys, grouped
//! ([`crate::tui::group`]) and kept until the filter or the store's
//! `data_version` changes, and the findings a triage target names.

use super::{Source, MAX_FINDINGS};
use crate::store::{FindingFilter, StoreError};
use crate::tui::data::Target;
use crate::tui::group::group_keys;
use std::collections::HashSet;

/// A filter's findings grouped, valid while the store's `data_version` is `version`.
pub(super) struct GroupCache {
    pub(super) filter: FindingFilter,
    pub(super) version: Option<i64>,
    pub(super) groups: Vec<Vec<i64>>,
    /// Triaged findings the filter hides, once counted.
    pub(super) hidden: Option<u64>,
}

impl Source {
    /// The Findings view's groups for `filter` (rebuilt when the store changed).
    pub(super) fn groups(
        &mut self,
        filter: &FindingFilter,
        count_hidden: bool,
    ) -> Result<&GroupCache, StoreError> {
        let version = self.data_version();
        let fresh = matches!(&self.groups, Some(g) if g.version == version && g.filter == *filter);
        if !fresh {
            self.groups = None;
            let keys = self.reader()?.finding_keys(filter, MAX_FINDINGS)?;
            let groups = group_keys(&keys, &self.behaviours);
            self.groups = Some(GroupCache {
                filter: filter.clone(),
                version,
                groups,
                hidden: None,
            });
        }
        let need = count_hidden && matches!(&self.groups, Some(g) if g.hidden.is_none());
        if need {
            let all = FindingFilter {
                status: None,
                ..filter.clone()
            };
            let shown = self.reader()?.finding_count(filter)?;
            let every = self.reader()?.finding_count(&all)?;
            if let Some(g) = self.groups.as_mut() {
                g.hidden = Some(every.saturating_sub(shown));
            }
        }
        self.groups
            .as_ref()
            .ok_or_else(|| StoreError::NotFound("findings: not grouped".into()))
    }

    /// Every finding `target` names, each once, in order.
    pub(super) fn resolve(&mut self, target: &Target) -> Result<Vec<i64>, StoreError> {
        let mut seen = HashSet::new();
        let mut ids: Vec<i64> = target
            .ids
            .iter()
            .copied()
            .filter(|i| seen.insert(*i))
            .collect();
        for scope in &target.scopes {
            for k in self.reader()?.finding_keys(scope, MAX_FINDINGS)? {
                if seen.insert(k.id) {
                    ids.push(k.id);
                }
            }
        }
        Ok(ids)
    }
}
