//! Redirections as the walk reads them: `<`, `>`, `>>`, `>&`, here-strings,
//! here-documents and process substitutions become [`Redirect`]s, their targets
//! expanded as one unsplit word (the decoders it went through kept for the
//! command being read).

use super::walker::Walker;
use super::words::{expand, word, WordInfo};
use super::{Redirect, RedirectKind, Via};
use brush_parser::ast;

impl Walker<'_> {
    pub(super) fn redirect(&mut self, io: &ast::IoRedirect, depth: usize) -> Option<Redirect> {
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
                        let wi = self.expand_unsplit(&w.value);
                        Some(Redirect {
                            kind,
                            target: wi.text.trim().to_string(),
                        })
                    }
                    ast::IoFileRedirectTarget::ProcessSubstitution(_, sub) => {
                        let before = self.out.commands.len();
                        self.compound_list(&sub.list, Via::ProcessSubstitution, depth + 1);
                        self.collected.extend(before..self.out.commands.len());
                        None
                    }
                    ast::IoFileRedirectTarget::Duplicate(w) => {
                        // `>& FILE` is a file when FILE is not a descriptor number
                        let wi = self.expand_unsplit(&w.value);
                        let t = wi.text.split_whitespace().next().unwrap_or("").to_string();
                        let fd = t.chars().all(|c| c.is_ascii_digit() || c == '-');
                        Some(Redirect {
                            kind: if fd {
                                RedirectKind::Other
                            } else {
                                RedirectKind::Write
                            },
                            target: if fd { w.value.clone() } else { t },
                        })
                    }
                    ast::IoFileRedirectTarget::Fd(_) => None,
                }
            }
            ast::IoRedirect::HereString(_, w) => Some(Redirect {
                kind: RedirectKind::HereString,
                target: self.expand_unsplit(&w.value).text,
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
                target: self.expand_unsplit(&w.value).text,
            }),
        }
    }

    fn expand_unsplit(&mut self, raw: &str) -> WordInfo {
        let mut f = expand(raw, self, false);
        if f.is_empty() {
            return word(raw);
        }
        let w = f.swap_remove(0);
        self.redir_decoders.extend(w.decoders.iter().cloned());
        w
    }
}
