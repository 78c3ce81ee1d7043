//! View state: selection, scroll position and the page of rows each view holds.
//!
//! [`Paged`] is the virtual list every long view uses: it knows the total row
//! count, holds one page of rows around the viewport, and says which page to
//! fetch next, so a store of millions of rows costs one page of memory.

use super::data::Step;
use super::filter::Query;
use super::group::FindingGroup;
use crate::model::{ParseError, Severity, Span};
use crate::store::{
    FindingRow, RunRow, RunSort, SearchHit, SkillRow, SkillSighting, SourceRow, SpanRow,
};
use std::collections::{BTreeSet, HashMap, VecDeque};

/// Rows fetched per page.
pub const PAGE: usize = 200;

/// A virtual list: `total` rows exist, `rows` hold `[offset, offset + rows.len())`.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub total: u64,
    pub sel: usize,
    pub top: usize,
    pub offset: usize,
    pub rows: Vec<T>,
    /// The page asked for and not yet answered.
    pub requested: Option<(usize, usize)>,
    /// True once a first page has arrived.
    pub loaded: bool,
}

impl<T> Default for Paged<T> {
    fn default() -> Self {
        Paged {
            total: 0,
            sel: 0,
            top: 0,
            offset: 0,
            rows: Vec::new(),
            requested: None,
            loaded: false,
        }
    }
}

impl<T> Paged<T> {
    /// Row `i` if it is in the loaded page.
    pub fn get(&self, i: usize) -> Option<&T> {
        i.checked_sub(self.offset).and_then(|j| self.rows.get(j))
    }

    /// The selected row if loaded.
    pub fn selected(&self) -> Option<&T> {
        self.get(self.sel)
    }

    fn len(&self) -> usize {
        usize::try_from(self.total).unwrap_or(usize::MAX)
    }

    /// Moves the selection by `delta` rows (clamped) and keeps it on screen.
    pub fn move_by(&mut self, delta: isize, height: usize) {
        let last = self.len().saturating_sub(1);
        let to = if delta < 0 {
            self.sel.saturating_sub(delta.unsigned_abs())
        } else {
            self.sel.saturating_add(delta as usize).min(last)
        };
        self.select(to, height);
    }

    /// Selects row `i` (clamped) and scrolls so it is visible.
    pub fn select(&mut self, i: usize, height: usize) {
        self.sel = i.min(self.len().saturating_sub(1));
        self.scroll_into_view(height);
    }

    /// Adjusts `top` so the selection is inside a window of `height` rows.
    pub fn scroll_into_view(&mut self, height: usize) {
        let h = height.max(1);
        if self.sel < self.top {
            self.top = self.sel;
        } else if self.sel >= self.top + h {
            self.top = self.sel + 1 - h;
        }
        let max_top = self.len().saturating_sub(h);
        self.top = self.top.min(max_top);
    }

    /// The page to fetch so rows `[top, top + height)` are loaded, if any is missing.
    pub fn want(&self, height: usize) -> Option<(usize, usize)> {
        let end = (self.top + height.max(1)).min(self.len());
        let have_end = self.offset + self.rows.len();
        let covered = self.loaded && self.top >= self.offset && end <= have_end;
        if covered {
            return None;
        }
        let offset = self.top.saturating_sub(PAGE.saturating_sub(height) / 2);
        let w = (offset, PAGE.max(height));
        (self.requested != Some(w)).then_some(w)
    }

    /// Takes a page that arrived.
    pub fn fill(&mut self, total: u64, offset: usize, rows: Vec<T>, height: usize) {
        self.total = total;
        self.offset = offset;
        self.rows = rows;
        self.requested = None;
        self.loaded = true;
        self.sel = self.sel.min(self.len().saturating_sub(1));
        self.scroll_into_view(height);
    }

    /// Forgets the rows (filter changed): back to the top, nothing loaded.
    pub fn reset(&mut self) {
        *self = Paged::default();
    }

    /// Marks the page stale so the next `want` fetches it again (data changed).
    pub fn invalidate(&mut self) {
        self.loaded = false;
        self.requested = None;
    }
}

/// A small list held whole (sources, search hits): selection and scroll only.
#[derive(Debug, Clone, Default)]
pub struct Cursor {
    pub sel: usize,
    pub top: usize,
}

impl Cursor {
    /// Moves by `delta` within `len` rows, keeping the selection inside `height`.
    pub fn move_by(&mut self, delta: isize, len: usize, height: usize) {
        let last = len.saturating_sub(1);
        self.sel = if delta < 0 {
            self.sel.saturating_sub(delta.unsigned_abs())
        } else {
            self.sel.saturating_add(delta as usize).min(last)
        };
        self.sel = self.sel.min(last);
        let h = height.max(1);
        if self.sel < self.top {
            self.top = self.sel;
        } else if self.sel >= self.top + h {
            self.top = self.sel + 1 - h;
        }
    }
}

/// A list view's filter: the text as typed and what it means.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewFilter {
    pub text: String,
    pub query: Query,
}

impl ViewFilter {
    /// The filter `text` means.
    pub fn new(text: &str) -> ViewFilter {
        ViewFilter {
            text: text.trim().to_string(),
            query: super::filter::parse(text),
        }
    }

    /// ` · filter: TEXT` for a view's title, or nothing.
    pub fn title(&self) -> String {
        if self.text.is_empty() {
            String::new()
        } else {
            format!(" · filter: {}", crate::sanitize::line(&self.text))
        }
    }
}

/// The Runs view.
#[derive(Debug, Clone, Default)]
pub struct RunsState {
    pub list: Paged<RunRow>,
    pub filter: ViewFilter,
    pub sort: RunSort,
    pub tag: u64,
    /// Activity histograms of runs seen on screen (cleared when data changes).
    pub hist: HashMap<String, Vec<u64>>,
    pub hist_requested: bool,
    /// What every model call in the store cost (the total line).
    pub cost_total: Option<crate::pricing::Cost>,
}

/// The Run view: one run's spans as a tree with a waterfall.
#[derive(Debug, Clone, Default)]
pub struct RunState {
    pub run_id: Option<String>,
    pub run: Option<RunRow>,
    /// Spans with their place in the tree (depth, descendants) and their findings.
    pub list: Paged<super::data::SpanItem>,
    /// Skills seen in the run: (id, its content differs from the registry).
    pub skills: Vec<(String, bool)>,
    /// Spans whose subtrees are folded away (store keys).
    pub folded: std::collections::BTreeSet<i64>,
    pub tag: u64,
    /// A span to select once its position is known.
    pub locate: Option<String>,
}

/// The Span view: a span's detail, its findings grouped (one is selected for
/// triage) and the skills recognised in it.
#[derive(Debug, Clone, Default)]
pub struct SpanState {
    pub key: Option<(String, String)>,
    pub span: Option<Span>,
    pub groups: Vec<FindingGroup>,
    /// The selected group (triage keys act on it).
    pub sel: usize,
    /// (skill id, method, confidence).
    pub skills: Vec<(String, String, f32)>,
    pub loaded: bool,
    pub scroll: usize,
    /// Scroll to the first highlighted match once the span arrives.
    pub seek_match: bool,
}

/// Findings marked for a bulk decision: single findings, every finding of a
/// rule, every finding of a run (both within the view's filter).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marks {
    pub ids: BTreeSet<i64>,
    pub rules: BTreeSet<String>,
    pub runs: BTreeSet<String>,
}

impl Marks {
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.rules.is_empty() && self.runs.is_empty()
    }

    /// True when `g` is marked (itself, its rule or its run).
    pub fn covers(&self, g: &FindingGroup) -> bool {
        g.rows.iter().all(|r| self.ids.contains(&r.id))
            || g.rows
                .iter()
                .any(|r| self.rules.contains(&r.finding.rule_id))
            || self.runs.contains(&g.lead().finding.run_id)
    }

    /// What is marked, for the title: `2 marked · rule NET-TRACE-002 · run 3b14…`.
    pub fn label(&self) -> String {
        let mut out = Vec::new();
        if !self.ids.is_empty() {
            out.push(format!("{} marked", self.ids.len()));
        }
        for r in &self.rules {
            out.push(format!("rule {}", crate::sanitize::line(r)));
        }
        for r in &self.runs {
            out.push(format!(
                "run {}",
                super::widgets::fit(&crate::sanitize::line(r), 9)
            ));
        }
        out.join(" · ")
    }
}

/// The Findings view: the triage queue.
#[derive(Debug, Clone)]
pub struct FindingsState {
    pub list: Paged<FindingGroup>,
    pub filter: ViewFilter,
    /// Open findings only (the default); `a` shows triaged ones too.
    pub hide_triaged: bool,
    /// Triaged findings the filter hides.
    pub hidden: u64,
    pub tag: u64,
    pub marks: Marks,
    /// The chain steps of a finding: (finding id, steps).
    pub steps: Option<(i64, Vec<Step>)>,
    /// The reason given last (offered again by the next suppression).
    pub last_reason: String,
    /// The detail pane's scroll (back to 0 when the selection moves).
    pub detail_scroll: u16,
}

impl Default for FindingsState {
    fn default() -> FindingsState {
        FindingsState {
            list: Paged::default(),
            filter: ViewFilter::default(),
            hide_triaged: true,
            hidden: 0,
            tag: 0,
            marks: Marks::default(),
            steps: None,
            last_reason: String::new(),
            detail_scroll: 0,
        }
    }
}

/// The Skills view.
#[derive(Debug, Clone, Default)]
pub struct SkillsState {
    pub list: Paged<SkillRow>,
    pub filter: ViewFilter,
    pub tag: u64,
    pub hits_for: Option<String>,
    pub hits: Vec<SkillSighting>,
}

/// The Sources view.
#[derive(Debug, Clone, Default)]
pub struct SourcesState {
    pub filter: ViewFilter,
    pub rows: Vec<SourceRow>,
    pub cursor: Cursor,
    pub loaded: bool,
    pub errors_for: Option<String>,
    pub errors: Vec<ParseError>,
}

/// The Search view.
#[derive(Debug, Clone, Default)]
pub struct SearchState {
    pub query: String,
    pub hits: Vec<SearchHit>,
    pub cursor: Cursor,
    pub searching: bool,
    pub fts_pending: u64,
}

/// The Replay view: a run's spans appearing in their original timing.
#[derive(Debug, Clone)]
pub struct ReplayState {
    pub run_id: String,
    /// The first span's start (replay time zero).
    pub start_ms: Option<i64>,
    /// Spans already shown (the newest last; older ones drop off past a cap).
    pub shown: VecDeque<SpanRow>,
    /// How many spans have been shown in all.
    pub shown_total: u64,
    /// Loaded, not yet due.
    pub pending: VecDeque<SpanRow>,
    pub next_offset: usize,
    pub total: u64,
    pub requested: bool,
    /// Replay time since the start, milliseconds.
    pub clock_ms: f64,
    /// Idle time jumped over so far ([`ReplayState::compress_gap`]).
    pub skipped_ms: f64,
    pub speed: f64,
    pub paused: bool,
    /// The run's findings by primary span, raised as their spans arrive.
    pub findings: HashMap<String, Vec<FindingRow>>,
    pub findings_loaded: bool,
    /// Findings raised so far, newest last (older ones drop off past a cap).
    pub raised: VecDeque<FindingRow>,
    /// Findings raised so far, by `Severity::rank()`.
    pub raised_counts: [u64; 5],
}

impl ReplayState {
    /// A replay of `run_id` at normal speed, nothing loaded yet.
    pub fn new(run_id: String) -> ReplayState {
        ReplayState {
            run_id,
            start_ms: None,
            shown: VecDeque::new(),
            shown_total: 0,
            pending: VecDeque::new(),
            next_offset: 0,
            total: 0,
            requested: false,
            clock_ms: 0.0,
            skipped_ms: 0.0,
            speed: 1.0,
            paused: false,
            findings: HashMap::new(),
            findings_loaded: false,
            raised: VecDeque::new(),
            raised_counts: [0; 5],
        }
    }

    /// Takes the run's findings, raising those whose spans are already shown.
    pub fn set_findings(&mut self, rows: Vec<FindingRow>) {
        for f in rows {
            let span = f.finding.span_ids.first().cloned().unwrap_or_default();
            self.findings.entry(span).or_default().push(f);
        }
        self.findings_loaded = true;
        let shown: Vec<String> = self.shown.iter().map(|s| s.span.id.clone()).collect();
        for id in shown {
            self.raise(&id);
        }
    }

    /// Raises the findings of span `id` (once).
    fn raise(&mut self, id: &str) {
        let Some(fs) = self.findings.remove(id) else {
            return;
        };
        for f in fs {
            self.raised_counts[f.finding.severity.rank() as usize] += 1;
            self.raised.push_back(f);
            if self.raised.len() > Self::KEEP {
                self.raised.pop_front();
            }
        }
    }

    /// The worst severity among the findings raised on span `id` (shown spans only).
    pub fn worst_on(&self, id: &str) -> Option<Severity> {
        self.raised
            .iter()
            .filter(|f| f.finding.span_ids.first().map(String::as_str) == Some(id))
            .map(|f| f.finding.severity)
            .max()
    }

    /// Replay time at which the last span is due (where the clock stops).
    pub fn end_ms(&self) -> f64 {
        self.shown
            .back()
            .map(|s| self.due_at(s))
            .filter(|t| t.is_finite())
            .unwrap_or(0.0)
            .max(0.0)
    }

    /// Most spans kept on screen.
    pub const KEEP: usize = 500;

    /// Replay time of a span (spans without a start are due at once).
    pub fn due_at(&self, s: &SpanRow) -> f64 {
        match (s.span.start_ms, self.start_ms) {
            (Some(t), Some(z)) => (t - z) as f64,
            _ => f64::NEG_INFINITY,
        }
    }

    /// Moves every due span from `pending` to `shown`.
    pub fn release_due(&mut self) {
        while let Some(next) = self.pending.front() {
            if self.due_at(next) > self.clock_ms {
                break;
            }
            if let Some(s) = self.pending.pop_front() {
                let id = s.span.id.clone();
                self.shown.push_back(s);
                self.raise(&id);
                self.shown_total += 1;
                if self.shown.len() > Self::KEEP {
                    self.shown.pop_front();
                }
            }
        }
    }

    /// Long idle stretches (an agent waiting minutes for a person) are cut to
    /// [`crate::replay::MAX_GAP`] of real time, as the `replay` command cuts
    /// them: the clock jumps ahead and the jump is counted in `skipped_ms`.
    pub fn compress_gap(&mut self) {
        let cap = crate::replay::MAX_GAP.as_millis() as f64 * self.speed;
        let Some(next) = self.pending.front() else {
            return;
        };
        let due = self.due_at(next);
        if due.is_finite() && due - self.clock_ms > cap {
            self.skipped_ms += due - cap - self.clock_ms;
            self.clock_ms = due - cap;
        }
    }

    /// True when every span has been shown.
    pub fn finished(&self) -> bool {
        self.pending.is_empty() && self.next_offset as u64 >= self.total && !self.requested
    }
}

/// The run sorts, in the order `s` cycles them.
pub fn next_sort(s: RunSort) -> RunSort {
    match s {
        RunSort::Started => RunSort::Findings,
        RunSort::Findings => RunSort::Spans,
        RunSort::Spans => RunSort::Started,
    }
}

/// The name of a run sort for the title bar.
pub fn sort_name(s: RunSort) -> &'static str {
    match s {
        RunSort::Started => "newest",
        RunSort::Findings => "worst findings",
        RunSort::Spans => "most spans",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_gaps_are_cut_to_the_replay_cap_and_counted() {
        let row = |id: &str, t: i64| SpanRow {
            rowid: t,
            span: crate::model::Span {
                start_ms: Some(t),
                ..crate::model::Span::new(
                    id,
                    "r",
                    crate::model::SpanKind::Event,
                    id,
                    crate::model::Origin::new("f", 1),
                )
            },
        };
        let mut r = ReplayState::new("r".into());
        r.start_ms = Some(1_000);
        r.pending
            .extend([row("a", 1_000), row("b", 1_500), row("c", 601_000)]);
        r.total = 3;
        r.speed = 4.0;
        // 200 ms of real time at 4x: a and b are due; c is ten idle minutes away.
        r.clock_ms += 200.0 * r.speed;
        r.release_due();
        r.compress_gap();
        assert_eq!(r.shown_total, 2);
        let cap = crate::replay::MAX_GAP.as_millis() as f64 * r.speed;
        let wait = r.due_at(&r.pending[0]) - r.clock_ms;
        assert_eq!(
            wait, cap,
            "the next span is at most the cap away, in replay time"
        );
        assert_eq!(r.skipped_ms, 600_000.0 - 800.0 - cap);
        // A gap under the cap is left alone.
        let before = r.clock_ms;
        r.pending[0].span.start_ms = Some(1_000 + before as i64 + 100);
        r.compress_gap();
        assert_eq!(r.clock_ms, before);
    }

    #[test]
    fn paged_wants_pages_around_the_viewport_only() {
        let mut p: Paged<u32> = Paged::default();
        assert_eq!(p.want(20), Some((0, PAGE)));
        p.fill(1_000_000, 0, (0..PAGE as u32).collect(), 20);
        assert_eq!(p.want(20), None);
        p.move_by(150, 20);
        assert_eq!((p.sel, p.top), (150, 131));
        assert_eq!(p.want(20), None);
        p.move_by(100, 20);
        assert_eq!(p.sel, 250);
        let (off, lim) = p.want(20).expect("needs a page");
        assert!(off <= p.top && off + lim >= p.top + 20, "{off} {lim}");
        p.requested = Some((off, lim));
        assert_eq!(p.want(20), None, "not asked twice");
        p.select(usize::MAX, 20);
        assert_eq!(p.sel, 999_999);
        p.move_by(-5, 20);
        assert_eq!(p.sel, 999_994);
        assert_eq!(p.get(5), Some(&5));
        assert_eq!(p.get(PAGE), None);
    }

    #[test]
    fn empty_lists_stay_at_zero() {
        let mut p: Paged<u32> = Paged::default();
        p.fill(0, 0, vec![], 10);
        p.move_by(5, 10);
        p.move_by(-5, 0);
        assert_eq!((p.sel, p.top), (0, 0));
        assert!(p.selected().is_none());
        let mut c = Cursor::default();
        c.move_by(3, 0, 0);
        assert_eq!(c.sel, 0);
    }
}
