//! The walk over brush-parser's syntax tree: lists, pipelines, compound
//! commands, simple commands and redirections (`redirects.rs`) become
//! [`Command`]s, their words expanded against what the line itself set (see
//! `words.rs`, `env.rs`), nested substitutions recursed into, and a plain
//! split stands in where the parser gives up.

use super::env::Env;
use super::eval::Budget;
use super::fallback::strip_heredoc_bodies;
use super::words::{expand, WordInfo};
use super::{options, Command, Redirect, Script, Via, MAX_COMMANDS, MAX_DEPTH, MAX_SCRIPT};
use crate::detect::taxonomy::Taxonomy;
use brush_parser::ast;

/// At most this many words are read per command.
const MAX_WORDS: usize = 2048;

/// How many pipeline stages on each side a command knows by name.
pub(super) const MAX_NEIGHBOURS: usize = 32;

/// One pipeline as walked: for each stage, the commands it ran at the
/// pipeline's own depth (a simple command, or the body of a compound one).
#[derive(Debug, Clone)]
pub(super) struct PipeLog {
    pub(super) depth: usize,
    pub(super) level: usize,
    pub(super) stages: Vec<Vec<usize>>,
}

/// Walks one command line, appending what it finds to `out`.
pub(super) struct Walker<'a> {
    pub(super) tax: &'a Taxonomy,
    pub(super) out: &'a mut Script,
    pub(super) env: Env,
    pub(super) budget: Budget,
    /// Compound-command nesting (a brace group or loop body is one level down).
    pub(super) level: usize,
    /// Every pipeline walked so far, in order.
    pub(super) pipes: Vec<PipeLog>,
    /// Ids of the commands run inside the substitutions of the command being read.
    pub(super) collected: Vec<usize>,
    /// Depth of the command whose words are being expanded.
    pub(super) word_depth: usize,
    /// Decoders the redirections of the command being read went through.
    pub(super) redir_decoders: Vec<String>,
}

impl<'a> Walker<'a> {
    pub(super) fn new(tax: &'a Taxonomy, out: &'a mut Script, cwd: Option<String>) -> Walker<'a> {
        Walker {
            tax,
            out,
            env: Env::new(cwd),
            budget: Budget::new(),
            level: 0,
            pipes: Vec::new(),
            collected: Vec::new(),
            word_depth: 0,
            redir_decoders: Vec::new(),
        }
    }

    pub(super) fn full(&self) -> bool {
        self.out.commands.len() >= MAX_COMMANDS
    }

    pub(super) fn script(&mut self, text: &str, via: Via, depth: usize) {
        if depth > MAX_DEPTH || self.full() || text.trim().is_empty() {
            return;
        }
        if text.len() > MAX_SCRIPT {
            // A hostile size: no parser, a plain split over the whole text
            // (linear, its words clipped), and say so.
            self.out.truncated = true;
            if memchr::memmem::find(text.as_bytes(), b"<<").is_some() {
                self.fallback(&strip_heredoc_bodies(text), via, depth);
            } else {
                self.fallback(text, via, depth);
            }
            return;
        }
        let mut parser = brush_parser::Parser::new(std::io::Cursor::new(text), &options());
        match parser.parse_program() {
            Ok(prog) => {
                for cc in &prog.complete_commands {
                    self.compound_list(cc, via, depth);
                }
            }
            Err(_) => {
                self.out.parse_failed = true;
                self.fallback(text, via, depth);
            }
        }
    }

    pub(super) fn compound_list(&mut self, list: &ast::CompoundList, via: Via, depth: usize) {
        for item in &list.0 {
            self.and_or(&item.0, via, depth);
        }
    }

    fn and_or(&mut self, list: &ast::AndOrList, via: Via, depth: usize) {
        self.pipeline(&list.first, via, depth);
        for ao in &list.additional {
            match ao {
                ast::AndOr::And(p) | ast::AndOr::Or(p) => self.pipeline(p, via, depth),
            }
        }
    }

    fn pipeline(&mut self, p: &ast::Pipeline, via: Via, depth: usize) {
        let mut stages: Vec<Vec<usize>> = Vec::with_capacity(p.seq.len().min(MAX_COMMANDS));
        for c in &p.seq {
            if self.full() {
                break;
            }
            let before = self.out.commands.len();
            // Each stage runs in a subshell: what it sets does not outlive it.
            let saved = (p.seq.len() > 1).then(|| self.env.clone());
            self.command(c, via, depth);
            if let Some(env) = saved {
                self.env = env;
            }
            let top: Vec<usize> = (before..self.out.commands.len())
                .filter(|i| self.out.commands[*i].depth == depth)
                .collect();
            stages.push(top);
        }
        if stages.len() > 1 {
            self.link_stages(&stages);
        }
        self.pipes.push(PipeLog {
            depth,
            level: self.level,
            stages: stages.clone(),
        });
        if stages.len() > 1 {
            self.run_piped_payloads(&stages, depth);
        }
    }

    /// Names each stage's neighbours and which commands feed its stdin.
    fn link_stages(&mut self, stages: &[Vec<usize>]) {
        let names: Vec<Vec<String>> = stages
            .iter()
            .map(|ids| ids.iter().map(|i| self.out.commands[*i].name()).collect())
            .collect();
        // Commands whose output leaves their stage (not consumed inside it).
        let feeds: Vec<Vec<usize>> = stages
            .iter()
            .map(|ids| {
                ids.iter()
                    .copied()
                    .filter(|i| self.out.commands[*i].piped_to.is_empty())
                    .collect()
            })
            .collect();
        for (s, ids) in stages.iter().enumerate() {
            // the nearest neighbours are what the rules read; a bound keeps long pipelines linear
            let lo = s.saturating_sub(MAX_NEIGHBOURS);
            let hi = (s + 1 + MAX_NEIGHBOURS).min(names.len());
            let from: Vec<String> = names[lo..s].iter().flatten().cloned().collect();
            let to: Vec<String> = names[s + 1..hi].iter().flatten().cloned().collect();
            for &i in ids {
                let c = &mut self.out.commands[i];
                if c.piped_from.is_empty() {
                    c.piped_from.clone_from(&from);
                    if s > 0 {
                        c.stdin_from.clone_from(&feeds[s - 1]);
                    }
                }
                if c.piped_to.is_empty() {
                    c.piped_to.clone_from(&to);
                }
            }
        }
    }

    fn command(&mut self, c: &ast::Command, via: Via, depth: usize) {
        if self.full() {
            return;
        }
        match c {
            ast::Command::Simple(s) => self.simple(s, via, depth),
            ast::Command::Compound(cc, redirs) => {
                self.level += 1;
                let saved =
                    matches!(cc, ast::CompoundCommand::Subshell(_)).then(|| self.env.clone());
                self.compound(cc, via, depth);
                if let Some(env) = saved {
                    self.env = env;
                }
                self.level -= 1;
                if let Some(r) = redirs {
                    // Redirections of a compound command: record them on a synthetic command.
                    let redirects: Vec<Redirect> =
                        r.0.iter()
                            .filter_map(|io| self.redirect(io, depth))
                            .collect();
                    if !redirects.is_empty() {
                        let cmd = Command {
                            redirects,
                            ..Command::new(Vec::new(), via, depth, clip_text(&c.to_string()))
                        };
                        self.push(cmd);
                    }
                }
            }
            ast::Command::Function(f) => {
                self.env
                    .define_function(f.fname.as_ref(), f.body.to_string());
                self.level += 1;
                self.compound(&f.body.0, via, depth);
                self.level -= 1;
            }
            ast::Command::ExtendedTest(..) => {}
        }
    }

    fn compound(&mut self, cc: &ast::CompoundCommand, via: Via, depth: usize) {
        use ast::CompoundCommand as C;
        match cc {
            C::BraceGroup(b) => self.compound_list(&b.list, via, depth),
            C::Subshell(s) => self.compound_list(&s.list, via, depth),
            C::ForClause(f) => {
                // `for x in WORDS`: x takes each word; recorded as an assignment
                // so what the words carry (a substitution's output) reaches `$x`.
                if let Some(values) = &f.values {
                    self.for_variable(&f.variable_name, values, via, depth);
                }
                self.compound_list(&f.body.list, via, depth)
            }
            C::ArithmeticForClause(f) => self.compound_list(&f.body.list, via, depth),
            C::CaseClause(c) => {
                for item in &c.cases {
                    if let Some(l) = &item.cmd {
                        self.compound_list(l, via, depth);
                    }
                }
            }
            C::IfClause(i) => {
                self.compound_list(&i.condition, via, depth);
                self.compound_list(&i.then, via, depth);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.compound_list(c, via, depth);
                    }
                    self.compound_list(&e.body, via, depth);
                }
            }
            C::WhileClause(w) | C::UntilClause(w) => {
                self.compound_list(&w.0, via, depth);
                self.compound_list(&w.1.list, via, depth);
            }
            C::Coprocess(c) => self.command(&c.body, via, depth),
            C::Arithmetic(_) => {}
        }
    }

    fn for_variable(&mut self, name: &str, values: &[ast::Word], via: Via, depth: usize) {
        let outer = std::mem::take(&mut self.collected);
        self.word_depth = depth;
        let mut vals = Vec::new();
        let mut params = Vec::new();
        for w in values {
            for f in expand(&w.value, self, true) {
                params.extend(f.params);
                vals.push(f.text);
            }
        }
        let ids = std::mem::replace(&mut self.collected, outer);
        let subst_commands = ids.iter().map(|i| self.out.commands[*i].name()).collect();
        // a literal list: the variable holds its first word (`for p in /proc/[0-9]*`)
        match vals.first() {
            Some(v) if ids.is_empty() && !v.contains('$') => {
                self.env.assign(name, vec![v.clone()], false, false)
            }
            _ => self.env.unset(name),
        }
        let cmd = Command {
            assignments: vec![(name.to_string(), vals.join(" "))],
            params,
            subst_ids: ids,
            subst_commands,
            ..Command::new(Vec::new(), via, depth, format!("for {name} in …"))
        };
        self.push(cmd);
    }

    fn simple(&mut self, s: &ast::SimpleCommand, via: Via, depth: usize) {
        let mut words: Vec<WordInfo> = Vec::new();
        let mut assignments = Vec::new();
        let mut redirects = Vec::new();
        let mut procsubst_ids = Vec::new();
        let mut procsubst_out: Vec<(String, Vec<String>)> = Vec::new();
        let mut items: Vec<&ast::CommandPrefixOrSuffixItem> = Vec::new();
        if let Some(p) = &s.prefix {
            items.extend(p.0.iter());
        }
        let name_pos = items.len();
        if let Some(suf) = &s.suffix {
            items.extend(suf.0.iter());
        }
        let outer_collected = std::mem::take(&mut self.collected);
        let outer_redir = std::mem::take(&mut self.redir_decoders);
        self.word_depth = depth;
        let mut params = Vec::new();
        let mut name_done = s.word_or_name.is_none();
        // prefix assignments of a command with a name apply to that command only
        let has_name = s.word_or_name.is_some();
        for i in 0..=items.len() {
            if i == name_pos && !name_done {
                name_done = true;
                if let Some(w) = &s.word_or_name {
                    words.extend(self.expand_word(&w.value));
                }
            }
            let Some(it) = items.get(i) else { break };
            match it {
                ast::CommandPrefixOrSuffixItem::Word(_) if words.len() >= MAX_WORDS => {
                    self.out.truncated = true;
                }
                ast::CommandPrefixOrSuffixItem::Word(w) => words.extend(self.expand_word(&w.value)),
                ast::CommandPrefixOrSuffixItem::AssignmentWord(a, w) => {
                    let name = match &a.name {
                        ast::AssignmentName::VariableName(n) => n.clone(),
                        ast::AssignmentName::ArrayElementName(n, _) => n.clone(),
                    };
                    let (text, values, dynamic, ps) = self.assignment_value(a, &w.value);
                    params.extend(ps);
                    if i < name_pos {
                        if !has_name {
                            self.env.assign(&name, values, dynamic, a.append);
                        }
                        assignments.push((name, text));
                    } else {
                        // `export X=…` / `declare X=…` / `local X=…` arguments
                        self.env.assign(&name, values, dynamic, a.append);
                        words.push(WordInfo {
                            text: format!("{name}={text}"),
                            dynamic,
                            ..Default::default()
                        });
                    }
                }
                // `bash < <(…)`: stdin from a process substitution, which a
                // shell runs as it would `bash <(…)`
                ast::CommandPrefixOrSuffixItem::IoRedirect(ast::IoRedirect::File(
                    _,
                    ast::IoFileRedirectKind::Read,
                    ast::IoFileRedirectTarget::ProcessSubstitution(_, sub),
                )) => {
                    let before = self.out.commands.len();
                    let plog = self.pipes.len();
                    let saved = self.env.clone();
                    let level = self.level;
                    self.compound_list(&sub.list, Via::ProcessSubstitution, depth + 1);
                    self.env = saved;
                    procsubst_ids.extend(before..self.out.commands.len());
                    if let Some(o) = self.eval_pipes(plog, depth + 1, level) {
                        procsubst_out.push(o);
                    }
                }
                ast::CommandPrefixOrSuffixItem::IoRedirect(io) => {
                    if let Some(r) = self.redirect(io, depth) {
                        redirects.push(r);
                    }
                }
                ast::CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub) => {
                    let before = self.out.commands.len();
                    let plog = self.pipes.len();
                    let saved = self.env.clone();
                    let level = self.level;
                    self.compound_list(&sub.list, Via::ProcessSubstitution, depth + 1);
                    self.env = saved;
                    procsubst_ids.extend(before..self.out.commands.len());
                    if let Some(o) = self.eval_pipes(plog, depth + 1, level) {
                        procsubst_out.push(o);
                    }
                    words.push(WordInfo {
                        text: "<(…)".into(),
                        dynamic: true,
                        ..Default::default()
                    });
                }
            }
        }
        let subst_ids = std::mem::replace(&mut self.collected, outer_collected);
        let redir_decoders = std::mem::replace(&mut self.redir_decoders, outer_redir);
        // an alias or a function defined on the line stands in for the name
        if self.run_by_name(&words, &items, depth) {
            return;
        }
        let first = words.first();
        let dynamic_name = first.map(|w| w.dynamic).unwrap_or(false)
            && first
                .map(|w| w.text.starts_with('$') || w.text.starts_with('`'))
                .unwrap_or(false);
        // a name spelt so as to hide it, but known here (`$c$r`, `$(printf cu)rl`)
        let computed_name = first
            .map(|w| (w.substituted || w.assembled || !w.decoders.is_empty()) && !w.dynamic)
            .unwrap_or(false);
        let unresolved = words.iter().any(|w| w.dynamic);
        let mut decoders = redir_decoders;
        for w in &words {
            params.extend(w.params.iter().cloned());
            decoders.extend(w.decoders.iter().cloned());
        }
        let subst_commands = subst_ids
            .iter()
            .map(|i| self.out.commands[*i].name())
            .collect();
        let procsubst_commands = procsubst_ids
            .iter()
            .map(|i| self.out.commands[*i].name())
            .collect();
        let argv: Vec<String> = words.iter().map(|w| w.text.clone()).collect();
        let dyn_flags: Vec<bool> = words.iter().map(|w| w.dynamic || w.substituted).collect();
        let mut all_subst = subst_ids;
        all_subst.extend(procsubst_ids);
        let cmd = Command {
            assignments,
            redirects,
            params,
            subst_commands,
            procsubst_commands,
            subst_ids: all_subst,
            dynamic_name,
            computed_name,
            unresolved,
            words_decoded_by: decoders,
            cwd: self.env.cwd.clone(),
            ..Command::new(argv, via, depth, clip_text(&s.to_string()))
        };
        let id = self.finish_command(cmd, dyn_flags);
        if let Some(id) = id {
            self.after_command(id);
            // `bash <(…)` / `source <(…)` run what the process substitution printed.
            let runs_file = {
                let c = &self.out.commands[id];
                let n = c.name();
                self.tax.shells.contains(&n) || n == "source" || n == "."
            };
            if runs_file {
                for (text, decs) in procsubst_out {
                    self.run_payload(&text, &decs, depth);
                }
            }
        }
    }

    /// Expands one word of a command into its fields.
    fn expand_word(&mut self, raw: &str) -> Vec<WordInfo> {
        expand(raw, self, true)
    }

    /// The value of `NAME=…` / `NAME=(…)`: its text, its values when known,
    /// whether anything stayed unknown, and the parameters it expanded.
    fn assignment_value(
        &mut self,
        a: &ast::Assignment,
        raw_word: &str,
    ) -> (String, Vec<String>, bool, Vec<String>) {
        match &a.value {
            ast::AssignmentValue::Scalar(w) => {
                let fields = expand(&w.value, self, false);
                let f = fields.into_iter().next().unwrap_or_default();
                (f.text.clone(), vec![f.text], f.dynamic, f.params)
            }
            ast::AssignmentValue::Array(items) => {
                let mut vals = Vec::new();
                let mut dynamic = false;
                let mut params = Vec::new();
                for (_, w) in items {
                    for f in expand(&w.value, self, true) {
                        dynamic |= f.dynamic;
                        params.extend(f.params);
                        vals.push(f.text);
                    }
                }
                let _ = raw_word;
                (vals.join(" "), vals, dynamic, params)
            }
        }
    }

    /// Records a command and returns its id.
    pub(super) fn push(&mut self, mut cmd: Command) -> usize {
        let id = self.out.commands.len();
        cmd.id = id;
        self.out.commands.push(cmd);
        id
    }

    /// Walks a payload that a shell runs (decoded text, a process substitution's output).
    pub(super) fn run_payload(&mut self, text: &str, decoders: &[String], depth: usize) {
        if !self.budget.take(text.len()) {
            self.out.truncated = true;
            return;
        }
        let before = self.out.commands.len();
        self.script(text, Via::Decoded, depth + 1);
        for c in &mut self.out.commands[before..] {
            let mut d = decoders.to_vec();
            d.append(&mut c.decoded_by);
            c.decoded_by = d;
        }
    }
}

/// A word quoted so the shell reads it back as one word.
pub(super) fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./~:@=+,%".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A command's text as evidence: at most 4 KiB of it.
pub(super) fn clip_text(s: &str) -> String {
    if s.len() <= 4096 {
        return s.to_string();
    }
    let cut = (0..=4096)
        .rev()
        .find(|i| s.is_char_boundary(*i))
        .unwrap_or(0);
    format!("{}…", &s[..cut])
}
