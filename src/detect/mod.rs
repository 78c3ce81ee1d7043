//! Detection: skills in play and dangerous behaviour, read from raw spans in memory.
//!
//! [`Detector::scan_span`] sees each span in arrival order, with the redaction
//! report for it, and returns the findings and skill hits it derives. It keeps
//! per-run state (active skill, credential reads, injected outputs, keyed hashes
//! of secrets seen) so chains are linked as a run unfolds. It does no I/O:
//! rule data is embedded, registries and canary hashes are loaded by the
//! caller through [`Registry`] and [`DetectContext`].
//!
//! Modules: `tools` (what a tool call does, per agent) → `shell` (real shell
//! parsing) → `canary`/`exec`/`network` (rule hits; the three kept per
//! distinct call by `call_memo`) and `injection` (over `textnorm`, the text
//! normal form); `skills` and `registry` (skill fingerprints); `tokens` (canary tokens); `disguise` (secrets leaving in any
//! encoding or in pieces); `chains` (per-run correlation); `rules` (the
//! catalogue); `fingerprint`.

pub mod access;
mod call_memo;
pub mod canary;
mod canary_seen;
pub mod chains;
mod context;
pub mod disguise;
pub mod endpoints;
pub mod evasion;
pub mod exec;
pub mod fingerprint;
pub mod flow;
pub mod hit;
pub mod host;
pub mod hunt;
pub mod injection;
pub mod interp;
pub mod mounts;
pub mod network;
pub mod path;
pub mod persist;
mod redaction_report;
pub mod registry;
pub mod rules;
pub mod serve;
pub mod session;
pub mod shell;
mod skill_text;
pub mod skills;
pub mod staged;
pub mod tamper;
pub mod taxonomy;
pub mod textnorm;
pub mod tokens;
pub mod tools;
pub mod written;

pub use context::DetectContext;
pub use registry::{RegistriesConfig, Registry, Verification};
pub use rules::{catalogue, RuleInfo};
pub use taxonomy::DetectionConfig;

use crate::model::{Finding, HitMethod, SkillHit, Span, SpanKind};
use crate::redact::Report;
use hit::Hit;
use network::HostClass;
use rules::id;
use skills::{Observation, SkillIndex};
use std::sync::Arc;
use taxonomy::Taxonomy;
use tokens::CanarySet;

/// Why detection could not start.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// Built-in or configured rule data is invalid.
    #[error("detection data: {0}")]
    Data(String),
    /// A registry was refused (one line naming the file).
    #[error("{0}")]
    Registry(String),
    /// Reading or writing a key, canary or skill file failed.
    #[error("{0}")]
    Io(String),
    /// The config's `[detection]` or `[registries]` section is invalid.
    #[error("{0}")]
    Config(String),
}

/// What detection derived from one span.
#[derive(Debug, Default, Clone)]
pub struct Detections {
    pub findings: Vec<Finding>,
    pub skill_hits: Vec<SkillHit>,
    /// Canary tokens, and disguised secrets (encoded forms, pieces) sent out,
    /// as they appear in the span's text: the pipeline redacts them before the
    /// span is stored. Never log these.
    pub secrets: Vec<String>,
    /// Findings this span raised again that its run already holds: not
    /// emitted twice, but the guard judges a call by them all the same (a
    /// denied call retried word for word is denied again).
    pub repeated: Vec<Finding>,
}

/// The detection engine: compiled rule data, shared (`Arc`) by every
/// [`Detector::fork`], and the per-run state (`runs`, `sessions`), which is
/// each detector's own.
#[derive(Debug)]
pub struct Detector {
    tax: Arc<Taxonomy>,
    skills: Arc<SkillIndex>,
    registries: Arc<Vec<Registry>>,
    canaries: Arc<CanarySet>,
    key: [u8; 32],
    keys: Arc<disguise::Keys>,
    disguise: Arc<disguise::Rules>,
    runs: chains::Runs,
    tamper: Arc<tamper::Tamper>,
    sessions: session::Sessions,
    /// Injection verdicts of texts already judged (the same output seen again).
    injection_memo: injection::memo::Memo,
    /// Tool calls already understood and analysed (the same call seen again).
    calls: call_memo::CallMemo,
    /// Secrets already cut into tagged windows (the same secret in another run).
    tags: disguise::TagMemo,
    /// Outbound text windows already tagged (the same secret sent again).
    window_tags: disguise::WindowTags,
}

impl Default for Detector {
    fn default() -> Self {
        Detector::new()
    }
}

impl Detector {
    /// A detector with the built-in rule data and registry only.
    pub fn new() -> Detector {
        // The built-in data and registry digest are checked by unit tests; failing
        // here means a broken build, not bad input.
        let tax =
            Taxonomy::load(&DetectionConfig::default()).expect("built-in detection data is valid");
        let registries: Vec<Registry> = Registry::builtin().into_iter().collect();
        Detector::with_parts(tax, registries, DetectContext::default())
    }

    /// From the user's config (`[detection]`, `[registries]`) and the loaded context.
    /// Registries are loaded and verified here; a refused one fails the whole load.
    pub fn from_config(
        cfg: &crate::config::Config,
        ctx: DetectContext,
    ) -> Result<Detector, DetectError> {
        let dc: DetectionConfig = cfg
            .section("detection")
            .map_err(|e| DetectError::Config(e.to_string()))?;
        let rc: RegistriesConfig = cfg
            .section("registries")
            .map_err(|e| DetectError::Config(e.to_string()))?;
        let tax = Taxonomy::load(&dc)?;
        let registries = Registry::load_all(&rc)?;
        Ok(Detector::with_parts(tax, registries, ctx))
    }

    /// From explicit parts (tests, benches, `replay --redetect`).
    pub fn with_parts(tax: Taxonomy, registries: Vec<Registry>, ctx: DetectContext) -> Detector {
        let key = ctx.key.unwrap_or_else(|| {
            let mut k = [0u8; 32];
            rand::Rng::fill(&mut rand::thread_rng(), &mut k);
            k
        });
        Detector {
            skills: Arc::new(SkillIndex::new(&registries)),
            canaries: Arc::new(CanarySet::new(key, &ctx.canaries)),
            tax: Arc::new(tax),
            registries: Arc::new(registries),
            key,
            keys: Arc::new(disguise::Keys::new(&key)),
            // Built-in data, checked by unit tests; empty rules only lose the
            // exclusion of shared prefixes.
            disguise: Arc::new(disguise::Rules::load().unwrap_or_default()),
            runs: chains::Runs::default(),
            // Checked by unit tests, as the built-in detection data is.
            tamper: Arc::new(tamper::Tamper::load(&[]).expect("built-in tamper data is valid")),
            sessions: session::Sessions::default(),
            injection_memo: Default::default(),
            calls: Default::default(),
            tags: Default::default(),
            window_tags: Default::default(),
        }
    }

    /// A detector with the same compiled rules (shared, not copied: what one
    /// compiles on first use the other has) and no run state: `guard serve`
    /// gives each session its own, so sessions never wait on each other.
    pub fn fork(&self) -> Detector {
        Detector {
            tax: self.tax.clone(),
            skills: self.skills.clone(),
            registries: self.registries.clone(),
            canaries: self.canaries.clone(),
            key: self.key,
            keys: self.keys.clone(),
            disguise: self.disguise.clone(),
            runs: chains::Runs::default(),
            tamper: self.tamper.clone(),
            sessions: session::Sessions::default(),
            injection_memo: Default::default(),
            calls: Default::default(),
            tags: Default::default(),
            window_tags: Default::default(),
        }
    }

    /// Compiles now the regexes compiled on first use that many spans need
    /// (code's env access, secrets in pieces, image beacons): a long-lived
    /// process (`guard serve`) pays for them at start, not inside a request.
    pub fn warm(&self) {
        self.tax.warm();
        self.tamper.warm();
        self.disguise.warm();
    }

    /// A run's correlation state as JSON (see [`chains::RunState::snapshot`]).
    pub fn run_snapshot(
        &mut self,
        run: &str,
        redact: &mut dyn FnMut(&mut Finding),
    ) -> serde_json::Value {
        self.runs.get(run).snapshot(redact)
    }

    /// Restores a run's correlation state from [`Detector::run_snapshot`];
    /// false (and a fresh state) when the snapshot does not parse.
    pub fn restore_run(&mut self, run: &str, snapshot: serde_json::Value) -> bool {
        match chains::RunState::from_snapshot(snapshot) {
            Some(st) => {
                self.runs.set(run, st);
                true
            }
            None => false,
        }
    }

    /// The guard's protected files and commands (GRD-TRACE-001), to extend.
    pub fn tamper_mut(&mut self) -> &mut tamper::Tamper {
        // calls understood so far were checked against the old rules
        self.calls = Default::default();
        Arc::make_mut(&mut self.tamper)
    }

    /// The registries in use (for `registry list` and `doctor`).
    pub fn registries(&self) -> &[Registry] {
        self.registries.as_slice()
    }

    /// How many canary tokens are watched.
    pub fn canary_count(&self) -> usize {
        self.canaries.len()
    }

    /// Notes what a run record tells the command rules (its working
    /// directory): relative paths in its later commands resolve against it.
    pub fn observe_run(&mut self, run: &crate::model::Run) {
        if let Some(cwd) = run.cwd.as_deref().filter(|c| !c.is_empty()) {
            self.sessions.get(&run.id).run_cwd = Some(cwd.to_string());
        }
    }

    /// Scans one raw span. `report` says what redaction found in it.
    pub fn scan_span(&mut self, span: &Span, report: &Report) -> Detections {
        let mut out = Detections::default();
        if !self.tax.enabled {
            return out;
        }
        let mut hits: Vec<Hit> = Vec::new();
        let mut egress = false;
        let mut outbound_hosts: Vec<(String, HostClass)> = Vec::new();
        let mut is_outbound = false;
        // the call's arguments go to a third party whatever host it names (a
        // search engine, a mail or chat destination)
        let mut leaves = false;

        // 1. what the tool call does, where the run's shell stands (a call
        // seen before in the same state is not read again)
        let session = self.sessions.get(&span.run_id);
        let known = self.calls.understand(
            span,
            &self.tax,
            &self.tamper,
            session.cwd(),
            &session.remotes,
        );
        let call = known.as_deref().map(|k| &k.call);
        let mut observations: Vec<Observation> = Vec::new();
        if let Some(k) = &known {
            let call = &k.call;
            for a in &call.actions {
                if let tools::Action::Skill { name } = a {
                    observations.push(self.skills.invocation(name));
                }
            }
            let shells = call.actions.iter().filter_map(|a| match a {
                tools::Action::Shell { script, text } => Some((script, text)),
                _ => None,
            });
            // (every shell action has its entry; one missing is read afresh)
            let fetched = k.fetched.iter().map(Vec::as_slice);
            let fetched = fetched.chain(std::iter::repeat(&[][..]));
            for ((script, text), fetched) in shells.zip(fetched) {
                session.after_shell(script.final_cwd.as_deref(), &script.remotes);
                // a file an earlier call downloaded, run now
                let memory = &mut self.runs.get(&span.run_id).downloads;
                hits.extend(exec::across_calls(
                    script, fetched, &self.tax, &self.key, memory, text,
                ));
                // a credential copied into the project, then pushed or published
                let staged = &mut self.runs.get(&span.run_id).staged;
                hits.extend(staged::sent_with_project(script, &self.tax, staged, text));
            }
            let an = &k.analysis;
            egress |= an.quiet_egress || an.hits.iter().any(|h| h.egress);
            for e in &an.endpoints {
                let c = network::classify(&e.host, &self.tax);
                if c != HostClass::Loopback {
                    is_outbound = true;
                    outbound_hosts.push((e.host.clone(), c));
                }
            }
            leaves = call.sends || self.tax.is_search_tool(&call.tool);
            is_outbound |= call.is_mcp() || leaves;
            hits.extend(an.hits.iter().cloned());
            hits.extend(k.tamper.iter().cloned());
        }

        // 2. skills in text, outputs and attributes
        for t in [span.text.as_deref(), span.tool_output.as_deref()]
            .into_iter()
            .flatten()
        {
            self.scan_skills_in(t, 0, &mut observations);
        }
        for (k, v) in &span.attributes {
            if k == "tools" || (k.contains("tool") && k.contains("definitions")) {
                match v {
                    serde_json::Value::String(s) => {
                        if let Ok(j) = serde_json::from_str(s) {
                            self.skills.scan_tool_definitions(&j, &mut observations);
                        }
                    }
                    v => self.skills.scan_tool_definitions(v, &mut observations),
                }
                continue;
            }
            self.scan_skills_value(v, 0, &mut observations);
        }

        // 3. prompt injection in tool output (and tool-role messages)
        let tool_msg = span.kind == SpanKind::Message && span.name.eq_ignore_ascii_case("tool");
        let mut seed = chains::InjectionSeed::default();
        let inbound = [
            span.tool_output.as_deref(),
            tool_msg.then_some(span.text.as_deref()).flatten(),
        ];
        for t in inbound.into_iter().flatten() {
            let s = self.injection_memo.scan(t, &self.tax);
            seed.strong |= s.strong;
            seed.targets.extend(s.targets);
            hits.extend(s.hits);
        }
        // a subagent's prompt carrying such instructions hands them on
        if let Some(t) = call.and_then(|c| c.delegated.as_deref()) {
            let s = self.injection_memo.scan(t, &self.tax);
            hits.extend(s.hits.into_iter().map(|h| {
                let message = format!("a subagent is told: {}", h.message);
                Hit { message, ..h }
            }));
        }

        // 4. canary tokens anywhere in the span
        let canaries = canary_seen::find(&self.canaries, span, &mut out.secrets);
        if let Some(h) = canaries.hit {
            hits.push(h);
            egress = true;
        }

        // 5. redaction report: SEC-TRACE-001, and secrets leaving (EXF-TRACE-004)
        let st = self.runs.get(&span.run_id);
        let mut cx = redaction_report::Ctx {
            tax: &self.tax,
            key: &self.key,
            keys: &self.keys,
            disguise: &self.disguise,
            tags: &mut self.tags,
            window_tags: &mut self.window_tags,
        };
        let ob = redaction_report::Outbound {
            hosts: &outbound_hosts,
            is_outbound,
            leaves,
        };
        let read = redaction_report::read(
            &mut cx,
            st,
            span,
            report,
            call,
            &ob,
            &canaries.tokens,
            &mut out.secrets,
            &mut hits,
        );
        egress |= read.egress;
        let remembered = read.remembered;

        // 6. skill observations → hits and SKL findings; active skill
        for o in observations {
            match o {
                Observation::Hit {
                    skill,
                    method,
                    confidence,
                    how,
                } => {
                    let k = &self.skills.skills[skill];
                    st.active_skill = Some(k.id.clone());
                    if st.skill_hits.insert((
                        span.id.clone(),
                        k.id.clone(),
                        method.as_str().to_string(),
                    )) {
                        out.skill_hits.push(SkillHit {
                            skill_id: k.id.clone(),
                            version: Some(k.version.clone()),
                            name: k.name.clone(),
                            method,
                            confidence,
                            run_id: span.run_id.clone(),
                            span_id: span.id.clone(),
                            ts_ms: span.start_ms.or(span.end_ms),
                        });
                    }
                    hits.push(
                        Hit::new(
                            id::SKL_DETECTED,
                            format!(
                                "skill {} ({}@{}, registry {}) recognised by {how}",
                                k.name, k.id, k.version, k.registry
                            ),
                            &format!("{} via {}", k.id, method.as_str()),
                        )
                        .confidence(confidence)
                        .key(&k.id),
                    );
                }
                Observation::Changed { skill, what } => {
                    let k = &self.skills.skills[skill];
                    st.active_skill = Some(k.id.clone());
                    hits.push(
                        Hit::new(
                            id::SKL_CHANGED,
                            format!(
                                "skill {} ({}): {what} SHA-256 differs from registry {}",
                                k.name, k.id, k.registry
                            ),
                            &format!("{} {what} digest mismatch", k.id),
                        )
                        .confidence(0.9)
                        .key(&format!("{}|{what}", k.id)),
                    );
                }
                Observation::Unknown { name, how } => {
                    let sid = format!("unregistered/{name}");
                    st.active_skill = Some(sid.clone());
                    if st
                        .skill_hits
                        .insert((span.id.clone(), sid.clone(), "unknown".into()))
                    {
                        out.skill_hits.push(SkillHit {
                            skill_id: sid.clone(),
                            version: None,
                            name: name.clone(),
                            method: if how == "watermark" {
                                HitMethod::Watermark
                            } else {
                                HitMethod::ToolInvocation
                            },
                            confidence: 0.9,
                            run_id: span.run_id.clone(),
                            span_id: span.id.clone(),
                            ts_ms: span.start_ms.or(span.end_ms),
                        });
                    }
                    hits.push(
                        Hit::new(
                            id::SKL_UNKNOWN,
                            format!("skill {name} invoked ({how}) but no loaded registry knows it"),
                            &format!("{name} via {how}"),
                        )
                        .key(&sid),
                    );
                }
            }
        }

        // 7. hits → findings
        let mut findings: Vec<Finding> = Vec::new();
        for h in hits {
            if self.tax.disabled.contains(h.rule) {
                continue;
            }
            let f = Finding {
                rule_id: h.rule.to_string(),
                severity: h.severity,
                confidence: h.confidence,
                run_id: span.run_id.clone(),
                span_ids: std::iter::once(span.id.clone())
                    .chain(h.links.iter().filter(|l| **l != span.id).cloned())
                    .collect(),
                title: rules::title(h.rule),
                // Both uncut: the redactor redacts them whole, then cuts them.
                message: h.message,
                evidence: hit::evidence(span, report, &out.secrets, &h.evidence),
                fingerprint: fingerprint::fingerprint(h.rule, &span.run_id, &h.key),
                origin: Some(span.origin.clone()),
                skill_id: st.active_skill.clone(),
                ts_ms: span.start_ms.or(span.end_ms),
                related: Vec::new(),
            };
            if !findings.iter().any(|g| g.fingerprint == f.fingerprint) {
                findings.push(f);
            }
        }
        let risky: Vec<&Finding> = findings
            .iter()
            .filter(|f| {
                f.rule_id.starts_with("EXF-")
                    || f.rule_id.starts_with("CMD-")
                    || f.rule_id == id::ENV_SECRET
                    || f.rule_id == id::NET_BAD_HOST
                    || f.rule_id == id::GUARD_TAMPER
            })
            .collect();
        let chained = chains::correlate(
            st,
            &span.id,
            &findings,
            egress,
            &risky,
            &seed,
            span.tool_input.as_deref(),
        );
        findings.extend(chained);
        // keep the strongest copy of each fingerprint, then drop what was already emitted
        let mut best: Vec<Finding> = Vec::new();
        for f in findings {
            match best.iter_mut().find(|g| g.fingerprint == f.fingerprint) {
                Some(g) => {
                    if f.severity > g.severity || f.span_ids.len() > g.span_ids.len() {
                        *g = f;
                    }
                }
                None => best.push(f),
            }
        }
        for f in best {
            if !st.already(&f) {
                st.mark(&f);
                out.findings.push(f);
            } else {
                // judged as raised by this span (a chain it completes again)
                let mut f = f;
                if !f.span_ids.contains(&span.id) {
                    f.span_ids.push(span.id.clone());
                }
                out.repeated.push(f);
            }
        }
        if remembered > 0 {
            self.runs.trim_secrets(&span.run_id);
        }
        out
    }
}
