//! Detection: skills in play and dangerous behaviour, read from raw spans in memory.
//!
//! [`Detector::scan_span`] sees each span once, in arrival order, with the
//! redaction report for it, and returns the findings and skill hits it
//! derives. It keeps per-run state (active skill, credential reads, injected
//! outputs, secrets seen) so chains can be linked as a run unfolds. It does no
//! I/O: registries and rule data are loaded by [`Detector::new`].

use crate::model::{Finding, SkillHit, Span};
use crate::redact::Report;

/// What detection derived from one span.
#[derive(Debug, Default, Clone)]
pub struct Detections {
    pub findings: Vec<Finding>,
    pub skill_hits: Vec<SkillHit>,
}

/// The detection engine.
#[derive(Debug, Default)]
pub struct Detector {}

impl Detector {
    /// A detector with the built-in registries and rule data.
    pub fn new() -> Detector {
        Detector {}
    }

    /// Scans one raw span. `report` says what redaction found in it.
    pub fn scan_span(&mut self, _span: &Span, _report: &Report) -> Detections {
        Detections::default()
    }
}
