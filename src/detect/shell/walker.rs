//! The walk over brush-parser's syntax tree: lists, pipelines, compound
//! commands, simple commands and redirections become [`Command`]s, nested
//! substitutions are recursed into, and a plain split stands in where the
//! parser gives up.

use super::words::{strip_quotes, word, WordInfo};
use super::{
    basename, options, Command, Redirect, RedirectKind, Script, Via, MAX_COMMANDS, MAX_DEPTH,
};
use crate::detect::taxonomy::Taxonomy;
use brush_parser::ast;

/// Walks one command line, appending what it finds to `out`.
pub(super) struct Walker<'a> {
    pub(super) tax: &'a Taxonomy,
    pub(super) out: &'a mut Script,
}

impl Walker<'_> {
    pub(super) fn full(&self) -> bool {
        self.out.commands.len() >= MAX_COMMANDS
    }

    pub(super) fn script(&mut self, text: &str, via: Via, depth: usize) {
        if depth > MAX_DEPTH || self.full() || text.trim().is_empty() {
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

    /// When the parser gives up (unbalanced quotes, odd syntax): split on control
    /// operators and whitespace, strip quotes. Better than seeing nothing.
    fn fallback(&mut self, text: &str, via: Via, depth: usize) {
        let mut prev: Vec<String> = Vec::new();
        for seg in text.split([';', '&', '\n']) {
            let stages: Vec<&str> = seg.split('|').collect();
            let names: Vec<String> = stages
                .iter()
                .map(|s| {
                    s.split_whitespace()
                        .next()
                        .map(|w| basename(&strip_quotes(w)).to_string())
                        .unwrap_or_default()
                })
                .collect();
            for (i, st) in stages.iter().enumerate() {
                let argv: Vec<String> = st.split_whitespace().map(strip_quotes).collect();
                if argv.is_empty() {
                    continue;
                }
                let cmd = Command {
                    piped_from: names[..i].to_vec(),
                    piped_to: names[i + 1..].to_vec(),
                    ..Command::new(argv, via, depth, st.trim().to_string())
                };
                self.finish_command(cmd, Vec::new());
            }
            prev.clear();
        }
    }

    fn compound_list(&mut self, list: &ast::CompoundList, via: Via, depth: usize) {
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
        // Most commands stand alone: no neighbours to name, so no words to parse twice.
        if let [c] = p.seq.as_slice() {
            let ctx = PipeCtx {
                from: Vec::new(),
                to: Vec::new(),
            };
            self.command(c, &ctx, via, depth);
            return;
        }
        let names: Vec<String> = p.seq.iter().map(|c| self.head_name(c)).collect();
        for (i, c) in p.seq.iter().enumerate() {
            let ctx = PipeCtx {
                from: names[..i].to_vec(),
                to: names[i + 1..].to_vec(),
            };
            self.command(c, &ctx, via, depth);
        }
    }

    /// The name of the first simple command inside `c` (for pipeline neighbours).
    fn head_name(&self, c: &ast::Command) -> String {
        match c {
            ast::Command::Simple(s) => {
                let mut words: Vec<String> = Vec::new();
                if let Some(w) = &s.word_or_name {
                    words.push(word(&w.value).text);
                }
                if let Some(suf) = &s.suffix {
                    for it in &suf.0 {
                        if let ast::CommandPrefixOrSuffixItem::Word(w) = it {
                            words.push(word(&w.value).text);
                        }
                    }
                }
                let (_, rest, _) = self.strip_wrappers(&words);
                rest.first()
                    .map(|w| basename(w).to_ascii_lowercase())
                    .unwrap_or_default()
            }
            ast::Command::Compound(cc, _) => match cc {
                ast::CompoundCommand::BraceGroup(b) => self.list_head(&b.list),
                ast::CompoundCommand::Subshell(s) => self.list_head(&s.list),
                _ => String::new(),
            },
            _ => String::new(),
        }
    }

    fn list_head(&self, l: &ast::CompoundList) -> String {
        l.0.first()
            .and_then(|it| it.0.first.seq.first())
            .map(|c| self.head_name(c))
            .unwrap_or_default()
    }

    fn command(&mut self, c: &ast::Command, ctx: &PipeCtx, via: Via, depth: usize) {
        if self.full() {
            return;
        }
        match c {
            ast::Command::Simple(s) => self.simple(s, ctx, via, depth),
            ast::Command::Compound(cc, redirs) => {
                self.compound(cc, via, depth);
                if let Some(r) = redirs {
                    // Redirections of a compound command: record them on a synthetic command.
                    let redirects: Vec<Redirect> =
                        r.0.iter()
                            .filter_map(|io| self.redirect(io, depth))
                            .collect();
                    if !redirects.is_empty() {
                        let cmd = Command {
                            redirects,
                            piped_from: ctx.from.clone(),
                            piped_to: ctx.to.clone(),
                            ..Command::new(Vec::new(), via, depth, c.to_string())
                        };
                        self.out.commands.push(cmd);
                    }
                }
            }
            ast::Command::Function(f) => self.compound(&f.body.0, via, depth),
            ast::Command::ExtendedTest(..) => {}
        }
    }

    fn compound(&mut self, cc: &ast::CompoundCommand, via: Via, depth: usize) {
        use ast::CompoundCommand as C;
        match cc {
            C::BraceGroup(b) => self.compound_list(&b.list, via, depth),
            C::Subshell(s) => self.compound_list(&s.list, via, depth),
            C::ForClause(f) => self.compound_list(&f.body.list, via, depth),
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
            C::Coprocess(c) => {
                let ctx = PipeCtx::default();
                self.command(&c.body, &ctx, via, depth);
            }
            C::Arithmetic(_) => {}
        }
    }

    fn simple(&mut self, s: &ast::SimpleCommand, ctx: &PipeCtx, via: Via, depth: usize) {
        let mut words: Vec<WordInfo> = Vec::new();
        let mut assignments = Vec::new();
        let mut redirects = Vec::new();
        let mut procsubst = Vec::new();
        let mut items: Vec<&ast::CommandPrefixOrSuffixItem> = Vec::new();
        if let Some(p) = &s.prefix {
            items.extend(p.0.iter());
        }
        let name_pos = items.len();
        if let Some(suf) = &s.suffix {
            items.extend(suf.0.iter());
        }
        let mut name_word = s.word_or_name.as_ref().map(|w| word(&w.value));
        let mut params = Vec::new();
        let mut substs = Vec::new();
        for (i, it) in items.iter().enumerate() {
            if i == name_pos {
                if let Some(w) = name_word.take() {
                    words.push(w);
                }
            }
            match it {
                ast::CommandPrefixOrSuffixItem::Word(w) => words.push(word(&w.value)),
                ast::CommandPrefixOrSuffixItem::AssignmentWord(a, w) => {
                    let name = match &a.name {
                        ast::AssignmentName::VariableName(n) => n.clone(),
                        ast::AssignmentName::ArrayElementName(n, _) => n.clone(),
                    };
                    let raw = w.value.split_once('=').map(|x| x.1).unwrap_or("");
                    let v = word(raw);
                    params.extend(v.params.iter().cloned());
                    substs.extend(v.substs.iter().cloned());
                    if i < name_pos {
                        assignments.push((name, v.text));
                    } else {
                        // `export X=…` / `declare X=…` arguments
                        words.push(WordInfo {
                            text: format!("{name}={}", v.text),
                            ..Default::default()
                        });
                    }
                }
                ast::CommandPrefixOrSuffixItem::IoRedirect(io) => {
                    if let Some(r) = self.redirect(io, depth) {
                        redirects.push(r);
                    }
                }
                ast::CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub) => {
                    let before = self.out.commands.len();
                    self.compound_list(&sub.list, Via::ProcessSubstitution, depth + 1);
                    procsubst.extend(self.out.commands[before..].iter().map(|c| c.name()));
                    words.push(WordInfo {
                        text: "<(…)".into(),
                        dynamic: true,
                        ..Default::default()
                    });
                }
            }
        }
        if let Some(w) = name_word.take() {
            words.push(w);
        }
        let dynamic_name = words.first().map(|w| w.dynamic).unwrap_or(false)
            && words
                .first()
                .map(|w| w.text.starts_with('$') || w.text.starts_with('`'))
                .unwrap_or(false);
        for w in &words {
            params.extend(w.params.iter().cloned());
            substs.extend(w.substs.iter().cloned());
        }
        // Recurse into command substitutions, remembering what ran inside.
        let mut subst_commands = Vec::new();
        for sub in &substs {
            let before = self.out.commands.len();
            self.script(sub, Via::Substitution, depth + 1);
            subst_commands.extend(self.out.commands[before..].iter().map(|c| c.name()));
        }
        let argv: Vec<String> = words.iter().map(|w| w.text.clone()).collect();
        let dyn_flags: Vec<bool> = words.iter().map(|w| w.dynamic).collect();
        let cmd = Command {
            assignments,
            redirects,
            piped_from: ctx.from.clone(),
            piped_to: ctx.to.clone(),
            params,
            subst_commands,
            procsubst_commands: procsubst,
            dynamic_name,
            ..Command::new(argv, via, depth, s.to_string())
        };
        self.finish_command(cmd, dyn_flags);
    }

    fn redirect(&mut self, io: &ast::IoRedirect, depth: usize) -> Option<Redirect> {
        use ast::IoFileRedirectKind as K;
        match io {
            ast::IoRedirect::File(_, kind, target) => {
                let kind = match kind {
                    K::Read => RedirectKind::Read,
                    K::Write | K::Clobber | K::ReadAndWrite => RedirectKind::Write,
                    K::Append => RedirectKind::Append,
                    _ => RedirectKind::Other,
                };
                match target {
                    ast::IoFileRedirectTarget::Filename(w) => {
                        let wi = word(&w.value);
                        Some(Redirect {
                            kind,
                            target: wi.text,
                        })
                    }
                    ast::IoFileRedirectTarget::ProcessSubstitution(_, sub) => {
                        self.compound_list(&sub.list, Via::ProcessSubstitution, depth + 1);
                        None
                    }
                    ast::IoFileRedirectTarget::Duplicate(w) => Some(Redirect {
                        kind: RedirectKind::Other,
                        target: w.value.clone(),
                    }),
                    ast::IoFileRedirectTarget::Fd(_) => None,
                }
            }
            ast::IoRedirect::HereString(_, w) => Some(Redirect {
                kind: RedirectKind::HereString,
                target: word(&w.value).text,
            }),
            ast::IoRedirect::HereDocument(_, h) => Some(Redirect {
                kind: RedirectKind::HereDoc,
                target: h.doc.value.clone(),
            }),
            ast::IoRedirect::OutputAndError(w, append) => Some(Redirect {
                kind: if *append {
                    RedirectKind::Append
                } else {
                    RedirectKind::Write
                },
                target: word(&w.value).text,
            }),
        }
    }
}

/// The pipeline neighbours of the command being read.
#[derive(Default)]
struct PipeCtx {
    from: Vec<String>,
    to: Vec<String>,
}
